"""O2IMS knowledge shared by recording, replay, the synthetic model and diff: routes, query rules, errors, specs."""
