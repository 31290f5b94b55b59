"""``/docs`` in a real browser (headless Chromium from Debian): Swagger UI renders every operation from assets
the server itself serves, and "Try it out" on an O2IMS operation and on an admin operation gets this server's
answers. The screenshot of the page after the calls is left in build/test-artifacts/.

Skipped when no Chromium is installed; `make browser-test` installs Debian's chromium when missing and runs it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from replayer.server.embedded import EmbeddedServer

from .cdp import Chromium, Page, chromium_binary
from .conftest import INV, POOLS, interaction

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "test-artifacts"
BINARY = chromium_binary()

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(BINARY is None, reason="no Chromium: `make browser-test` installs it and runs this")]

#: Expand an operation, press "Try it out" then "Execute"; the operation is found by method and path.
_TRY = """
(async (method, path) => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const until = async (f, what) => { for (let i = 0; i < 300; i++) { const v = f(); if (v) return v; await sleep(100); }
                                      throw new Error('no ' + what); };
  const op = [...document.querySelectorAll('.opblock.opblock-' + method)]
    .find(o => o.querySelector('.opblock-summary-path')?.getAttribute('data-path') === path);
  if (!op) throw new Error('no operation ' + method + ' ' + path);
  (op.querySelector('.opblock-summary-control') || op.querySelector('.opblock-summary')).click();
  (await until(() => op.querySelector('.try-out__btn'), 'Try it out button')).click();
  await until(() => op.querySelector('.execute'), 'Execute button');
  // Swagger UI fills the parameters with the definitions' examples (a filter, fields...): clear them, as a
  // user asking for the whole collection does (React inputs take the native setter plus an input event).
  const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  op.querySelectorAll('.parameters input[type=text]').forEach(i => {
    set.call(i, ''); i.dispatchEvent(new Event('input', {bubbles: true})); });
  op.querySelectorAll('.parameters select').forEach(s => {
    s.value = ''; s.dispatchEvent(new Event('change', {bubbles: true})); });
  await sleep(1000);  // the text inputs are debounced (300 ms) before Swagger UI takes their value
  op.querySelector('.execute').click();
  const status = await until(() => op.querySelector('.live-responses-table .response .response-col_status'),
                             'live response');
  const pres = [...op.querySelectorAll('.live-responses-table .response-col_description pre')];
  const url = op.querySelector('.request-url pre');
  return {status: status.textContent.trim(), url: url ? url.textContent : '',
          body: pres.length ? pres[0].textContent : '', headers: pres.length > 1 ? pres[1].textContent : ''};
})(%s, %s)
"""


async def _scenario(server: EmbeddedServer, profile: Path) -> dict[str, Any]:
    assert BINARY is not None
    with Chromium(BINARY, profile) as browser:
        async with Page(browser.endpoint) as page:
            for domain in ("Page", "Network", "Runtime"):
                await page.send(f"{domain}.enable")
            await page.send("Page.navigate", url=f"{server.url}/docs")
            await page.until("document.querySelectorAll('.opblock-tag').length", "the API's tags", 90)
            tags = await page.js("[...document.querySelectorAll('.opblock-tag')].map(t => t.textContent)")
            await page.js("[...document.querySelectorAll('.opblock-tag-section:not(.is-open) .opblock-tag')]"
                          ".forEach(t => t.click())")  # docExpansion none: operations render once opened
            count = await page.until("document.querySelectorAll('.opblock').length > 100 && "
                                     "document.querySelectorAll('.opblock').length", "the operations")
            pools = await page.js(_TRY % (json.dumps("get"), json.dumps(f"{INV}/resourcePools")))
            admin = await page.js(_TRY % (json.dumps("get"), json.dumps("/__admin/cassettes")))
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(ARTIFACTS / "docs-try-it-out.png")
            urls = [e["params"]["request"]["url"] for e in page.events if e["method"] == "Network.requestWillBeSent"]
    return {"count": count, "tags": tags, "pools": pools, "admin": admin, "urls": urls}


def test_swagger_ui_renders_and_try_it_out_answers(serve: Callable[..., EmbeddedServer], tmp_path: Path) -> None:
    server = serve({"inv.yaml": [interaction("GET", f"{INV}/resourcePools", body=POOLS)]})
    seen = asyncio.run(asyncio.wait_for(_scenario(server, tmp_path / "chromium-profile"), 240))
    assert seen["count"] > 10 and any("admin" in t for t in seen["tags"])
    assert seen["pools"]["status"] == "200", seen["pools"]
    assert seen["pools"]["url"] == f"{server.url}{INV}/resourcePools"
    assert [p["name"] for p in json.loads(seen["pools"]["body"])] == [p["name"] for p in POOLS]
    assert "x-replay-source: cassette" in seen["pools"]["headers"].lower()
    assert seen["admin"]["status"] == "200" and "inv.yaml" in seen["admin"]["body"], seen["admin"]
    local = [u for u in seen["urls"] if not u.startswith("data:")]
    assert local and all(u.startswith(server.url) for u in local), local  # offline: nothing from elsewhere
    assert (ARTIFACTS / "docs-try-it-out.png").stat().st_size > 10_000
