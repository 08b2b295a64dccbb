"""The dashboard's stylesheet and script, served from ``/dashboard/static/`` (nothing is fetched
from anywhere else: the pages work on a machine with no internet)."""

from __future__ import annotations

CSS = """
body { font-family: system-ui, sans-serif; margin: 0; color: #202124; background: #fff; }
header { display: flex; align-items: center; gap: 1.2em; padding: .6em 1.2em; background: #202124; color: #fff; }
header a { color: #e8eaed; text-decoration: none; }
header a.active { color: #fff; font-weight: bold; border-bottom: 2px solid #8ab4f8; }
header .who { margin-left: auto; color: #bdc1c6; }
header form { margin: 0; }
main { padding: 1em 1.2em; }
h1 { font-size: 1.4em; margin: .2em 0 .6em; }
h2 { font-size: 1.1em; margin: 1.2em 0 .4em; }
table { border-collapse: collapse; margin-bottom: 1em; }
th, td { text-align: left; padding: .3em .8em; border-bottom: 1px solid #dadce0; vertical-align: top; }
th { background: #f1f3f4; }
pre.console { background: #202124; color: #e8eaed; padding: .8em; overflow: auto; max-height: 32em; }
.picture { overflow: auto; border: 1px solid #dadce0; padding: .4em; }
svg text { font: 12px system-ui, sans-serif; fill: #202124; }
svg .name { font-weight: bold; }
svg .ip, svg .type, svg .cidr { font-size: 11px; fill: #3c4043; }
.state { font-family: monospace; }
.error { color: #c5221f; }
.muted { color: #5f6368; }
form.login { display: grid; gap: .6em; max-width: 20em; margin-top: 2em; }
form.login input { padding: .4em; }
"""

#: Polls the fragment of the element marked ``data-live`` (at most once a second) and swaps it
#: in, until the fragment says the work is done. Plain DOM calls: no framework, no build.
JS = """
(function () {
  var live = document.querySelector('[data-live]');
  if (!live) { return; }
  var url = live.getAttribute('data-live');
  function poll() {
    if (live.getAttribute('data-busy') !== 'true') { return; }
    fetch(url, {credentials: 'same-origin', cache: 'no-store'}).then(function (response) {
      if (response.status === 401) { window.location.assign(live.getAttribute('data-login')); return null; }
      if (response.status === 404) { live.setAttribute('data-busy', 'false'); return null; }
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html !== null && html !== undefined) {
        var box = document.createElement('div');
        box.innerHTML = html;
        var fresh = box.querySelector('[data-live]');
        if (fresh) {
          live.innerHTML = fresh.innerHTML;
          live.setAttribute('data-busy', fresh.getAttribute('data-busy'));
        }
      }
    }).catch(function () {}).then(function () { window.setTimeout(poll, 1000); });
  }
  window.setTimeout(poll, 1000);
})();
"""
