"""One module per ``o2replay`` subcommand: ``register(subparsers)`` and ``run(args) -> int``."""
