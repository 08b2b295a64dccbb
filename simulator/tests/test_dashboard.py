"""The dashboard at /dashboard, in a real headless browser (Debian's chromium through Selenium)
and, for status codes and headers, over plain HTTP.

One browser serves the module (its cookies are cleared before each test); the simulator is the
session's, reset before each test. Screenshots of the main pages go to
build/test-output/dashboard/ in the checkout, for a person to look at.
"""

from __future__ import annotations

import base64
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from stacksim import clock, control, testing_browser
from stacksim.config import DEFAULT_PASSWORD
from stacksim.dashboard import COOKIE, PREFIX
from stacksim.dashboard.svg import Device, Link, Net, Resource, stack_svg, text_size, text_width, topology_svg
from stacksim.testing import Simulator
from stacksim.testing_browser import chromium, require_browser, save_screenshot

HERE = Path(__file__).resolve().parent
SHOTS = HERE.parents[1] / "build" / "test-output" / "dashboard"
SANDBOX = yaml.safe_load((HERE / "templates" / "small_sandbox.yaml").read_text())
SANDBOX_SERVERS = ("small-sandbox-man", "small-sandbox-router", "small-sandbox-server")
SANDBOX_NETWORKS = ("small-sandbox-server-switch", "small-sandbox-wan", "small-sandbox-uplink")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_browser()
    with chromium() as driver:
        yield driver


@pytest.fixture
def page(browser: Any, sim: Simulator) -> Any:
    """The module's browser, logged out (no cookie of an earlier test)."""
    browser.get(f"{sim.url}{PREFIX}/login")
    browser.delete_all_cookies()
    return browser


def log_in(driver: Any, sim: Simulator, user: str, project: str | None = None) -> None:
    testing_browser.log_in(driver, sim.url, user, DEFAULT_PASSWORD, project)


def http_session(sim: Simulator, user: str) -> requests.Session:
    """A plain HTTP client logged in to the dashboard as ``user`` (on the project of that name)."""
    session = requests.Session()
    form = {"username": user, "password": DEFAULT_PASSWORD, "project": user}
    answer = session.post(f"{sim.url}{PREFIX}/login", data=form, allow_redirects=False, timeout=30)
    assert answer.status_code == 303, answer.text
    return session


def names(driver: Any, kind: str) -> set[str]:
    """The names on the topology picture's elements of class ``os-<kind>``."""
    return {el.get_attribute("data-name") for el in driver.find_elements(By.CSS_SELECTOR, f"svg .os-{kind}")}


def states(driver: Any) -> list[str]:
    """The states of the stack picture's resources, read in one go (the page swaps them as it polls)."""
    script = "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.getAttribute('data-state'));"
    return driver.execute_script(script, "svg .os-resource")


def live_status(driver: Any) -> str:
    return driver.execute_script("return document.getElementById('stack-status').textContent;")


def shot(driver: Any, name: str) -> None:
    save_screenshot(driver, SHOTS / f"{name}.png")


def hold(sim: Simulator, job: str) -> str:
    token = control.admin_token(sim.url, DEFAULT_PASSWORD)
    return control.faults(sim.url, token, "POST", {"fault": {"job": job, "count": None}})["fault"]["id"]


def release(sim: Simulator, fault_id: str) -> None:
    control.faults(sim.url, control.admin_token(sim.url, DEFAULT_PASSWORD), "DELETE", path=f"/{fault_id}")


def deploy_sandbox(demo: Any, name: str = "small-sandbox") -> Any:
    return demo.orchestration.create_stack(name=name, template=SANDBOX)


# -- in the browser -------------------------------------------------------------------------------


def test_the_sandbox_in_the_dashboard(sim, demo, page):
    """Log in as demo, deploy the small sandbox (its servers held in BUILD), watch the stack
    page reach CREATE_COMPLETE by itself, then look at every page."""
    held = hold(sim, "server.build")
    stack = deploy_sandbox(demo)
    assert demo.orchestration.get_stack(stack.id).status == "CREATE_IN_PROGRESS"
    log_in(page, sim, "demo")

    page.get(f"{sim.url}{PREFIX}/stacks")
    page.find_element(By.LINK_TEXT, "small-sandbox").click()
    assert live_status(page) == "CREATE_IN_PROGRESS"
    script = "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.getAttribute('data-state'));"
    servers = page.execute_script(script, "svg .os-resource[data-resource^='server_']")
    assert servers == ["CREATE_IN_PROGRESS"] * 3
    page.execute_script("window.stillTheSamePage = true;")
    shot(page, "stack-in-progress")

    release(sim, held)
    WebDriverWait(page, 30, poll_frequency=0.2).until(lambda d: live_status(d) == "CREATE_COMPLETE")
    assert page.execute_script("return window.stillTheSamePage === true;"), "the page was reloaded"
    assert set(states(page)) == {"CREATE_COMPLETE"} and len(states(page)) == len(SANDBOX["resources"])
    assert page.find_element(By.ID, "live").get_attribute("data-busy") == "false"  # it stopped polling
    assert len(page.find_elements(By.CSS_SELECTOR, "svg .os-dependency")) > 0  # drawn as a graph
    assert "10.10.20.5" in page.find_element(By.ID, "live").text  # the outputs came with it
    shot(page, "stack")

    page.get(f"{sim.url}{PREFIX}/topology")
    assert set(SANDBOX_SERVERS) <= names(page, "server")
    assert set(SANDBOX_NETWORKS) <= names(page, "network")
    assert "small-sandbox-uplink" in names(page, "router")
    assert "public" in names(page, "network")
    picture = page.find_element(By.ID, "topology").text
    for address in ("10.10.20.5", "10.10.20.1", "100.100.100.1"):
        assert address in picture
    fip = demo.orchestration.get_stack(stack.id).outputs
    floating = next(o["output_value"] for o in fip if o["output_key"] == "man_floating_ip")
    man = page.find_element(By.CSS_SELECTOR, "svg .os-server[data-name='small-sandbox-man']")
    assert floating in man.text
    shot(page, "topology")

    server = demo.compute.find_server("small-sandbox-server")
    volume = demo.block_storage.create_volume(size=1, name="sandbox-data")
    demo.block_storage.wait_for_status(volume, "available", wait=30)
    demo.compute.create_volume_attachment(server, volume=volume)
    page.get(f"{sim.url}{PREFIX}/volumes")
    row = page.find_element(By.XPATH, "//tr[td[1][text()='sandbox-data']]")
    assert "small-sandbox-server" in row.text and "in-use" in row.text
    shot(page, "volumes")

    page.get(f"{sim.url}{PREFIX}/servers")
    for name in SANDBOX_SERVERS:
        assert "ACTIVE" in page.find_element(By.XPATH, f"//tr[td/a[text()='{name}']]").text
    shot(page, "servers")
    page.find_element(By.LINK_TEXT, "small-sandbox-server").click()
    assert page.find_element(By.ID, "server-status").text == "ACTIVE"
    assert "login:" in page.find_element(By.ID, "console").text
    assert volume.id in page.page_source
    shot(page, "server")

    page.get(f"{sim.url}{PREFIX}/images")
    assert "cirros-0.6.2-x86_64-disk" in page.find_element(By.TAG_NAME, "table").text
    shot(page, "images")
    page.get(f"{sim.url}{PREFIX}/stacks")
    shot(page, "stacks")


def test_a_member_of_alt_demo_sees_none_of_demos_resources(sim, demo, page):
    stack = deploy_sandbox(demo)
    log_in(page, sim, "alt_demo")
    assert not set(SANDBOX_SERVERS) & names(page, "server")
    assert not set(SANDBOX_NETWORKS) & names(page, "network")
    assert not names(page, "router")
    for where in ("servers", "stacks", "volumes"):
        page.get(f"{sim.url}{PREFIX}/{where}")
        assert "small-sandbox" not in page.page_source
    page.get(f"{sim.url}{PREFIX}/stacks/{stack.id}")
    assert page.find_element(By.TAG_NAME, "h1").text == "404"

    alt = http_session(sim, "alt_demo")
    server = demo.compute.find_server("small-sandbox-server")
    for path in (f"stacks/{stack.id}", f"stacks/{stack.id}/live", f"servers/{server.id}"):
        answer = alt.get(f"{sim.url}{PREFIX}/{path}", timeout=30)
        assert answer.status_code in (403, 404), path
        assert "small-sandbox" not in answer.text


def test_an_admin_sees_every_project(sim, demo, page):
    deploy_sandbox(demo)
    log_in(page, sim, "admin")
    assert set(SANDBOX_SERVERS) <= names(page, "server")
    page.get(f"{sim.url}{PREFIX}/servers")
    row = page.find_element(By.XPATH, "//tr[td/a[text()='small-sandbox-server']]")
    assert row.find_elements(By.TAG_NAME, "td")[-1].text == "demo"  # the Project column


def test_without_a_cookie_every_page_sends_to_the_login_page(sim, page):
    for where in ("", "/topology", "/servers", "/volumes", "/images", "/stacks", f"/stacks/{uuid.uuid4()}"):
        page.get(f"{sim.url}{PREFIX}{where}")
        assert page.current_url == f"{sim.url}{PREFIX}/login", where
    shot(page, "login")
    page.add_cookie({"name": COOKIE, "value": "gAAAAAnot-a-token", "path": PREFIX})
    page.get(f"{sim.url}{PREFIX}/servers")
    assert page.current_url == f"{sim.url}{PREFIX}/login"
    answer = requests.get(f"{sim.url}{PREFIX}/stacks/x/live", timeout=30)
    assert answer.status_code == 401  # what the polling script hears


def test_the_cookie_is_the_token_and_logging_out_revokes_it(sim, page):
    log_in(page, sim, "demo")
    (cookie,) = page.get_cookies()
    assert cookie["name"] == COOKIE
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == PREFIX
    assert page.execute_script("return document.cookie") == ""  # scripts cannot read it
    token = cookie["value"]
    shown = requests.get(
        f"{sim.url}/identity/v3/auth/tokens", headers={"X-Auth-Token": token, "X-Subject-Token": token}, timeout=30
    )
    assert shown.status_code == 200
    body = shown.json()["token"]
    assert body["project"]["name"] == "demo" and body["user"]["name"] == "demo"
    expires = clock.parse(body["expires_at"]).timestamp()
    assert abs(cookie["expiry"] - expires) <= 2  # the cookie ends with the token

    page.find_element(By.CSS_SELECTOR, "header form button").click()
    WebDriverWait(page, 10).until(lambda d: d.current_url.endswith(f"{PREFIX}/login"))
    assert page.get_cookies() == []
    gone = requests.get(f"{sim.url}/compute/v2.1/servers", headers={"X-Auth-Token": token}, timeout=30)
    assert gone.status_code == 401
    stale = requests.get(f"{sim.url}{PREFIX}/servers", cookies={COOKIE: token}, allow_redirects=False, timeout=30)
    assert stale.status_code == 303 and stale.headers["location"] == f"{PREFIX}/login"


def test_no_secret_appears_in_a_page(sim, demo, page):
    user_data, admin_pass = f"SECRET-USERDATA-{uuid.uuid4().hex}", f"SECRET-ADMINPASS-{uuid.uuid4().hex}"
    image = next(demo.image.images())
    flavor = demo.compute.find_flavor("m1.tiny")
    server = demo.compute.create_server(
        name="with-secrets",
        image_id=image.id,
        flavor_id=flavor.id,
        networks="none",
        user_data=base64.b64encode(f"#!/bin/sh\necho {user_data}\n".encode()).decode(),
        admin_password=admin_pass,
    )
    demo.compute.wait_for_server(server, wait=30)
    keys = {
        "heat_template_version": "2018-08-31",
        "resources": {"key": {"type": "OS::Nova::KeyPair", "properties": {"name": "k1", "save_private_key": True}}},
        "outputs": {
            "key_material": {"value": {"get_attr": ["key", "private_key"]}},
            "db_password": {"value": "hunter2-hunter2"},
        },
    }
    stack = demo.orchestration.create_stack(name="keys", template=keys)
    log_in(page, sim, "demo")
    for where in ("topology", "servers", f"servers/{server.id}", "stacks", f"stacks/{stack.id}", "volumes"):
        page.get(f"{sim.url}{PREFIX}/{where}")
        source = page.page_source
        for secret in (user_data, admin_pass, "PRIVATE KEY", "hunter2-hunter2"):
            assert secret not in source, (where, secret)
    page.get(f"{sim.url}{PREFIX}/servers/{server.id}")
    assert "with-secrets" in page.find_element(By.ID, "console").text  # the log is shown, cut
    page.get(f"{sim.url}{PREFIX}/stacks/{stack.id}")
    assert "key_material" in page.page_source  # the output is listed, its value hidden


# -- over HTTP ------------------------------------------------------------------------------------


def test_pages_escape_names_and_change_nothing(sim, demo):
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    demo.network.create_network(name=hostile)
    session = http_session(sim, "demo")
    answer = session.get(f"{sim.url}{PREFIX}/topology", timeout=30)
    assert answer.status_code == 200
    assert "<script>alert" not in answer.text and "<img src=x" not in answer.text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in answer.text
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["cache-control"] == "no-store"
    for method in ("PUT", "DELETE", "PATCH"):
        assert session.request(method, f"{sim.url}{PREFIX}/servers", timeout=30).status_code == 405
    assert session.post(f"{sim.url}{PREFIX}/servers", timeout=30).status_code == 405
    other = session.post(
        f"{sim.url}{PREFIX}/logout", headers={"Origin": "http://elsewhere.example"}, allow_redirects=False, timeout=30
    )
    assert other.status_code == 403  # a post from another site is refused


def test_a_wrong_password_is_refused_as_keystone_refuses_it(sim):
    form = {"username": "demo", "password": "wrong", "project": "demo"}
    answer = requests.post(f"{sim.url}{PREFIX}/login", data=form, allow_redirects=False, timeout=30)
    assert answer.status_code == 401
    assert "Login failed" in answer.text and COOKIE not in answer.headers.get("set-cookie", "")
    form = {"username": "demo", "password": DEFAULT_PASSWORD, "project": "alt_demo"}  # no role there
    assert requests.post(f"{sim.url}{PREFIX}/login", data=form, timeout=30).status_code == 401


def test_no_dashboard_turns_it_off():
    with Simulator(extra_args=["--no-dashboard"]) as sim:
        assert requests.get(f"{sim.url}{PREFIX}/login", timeout=30).status_code == 404
        assert requests.get(f"{sim.url}/health", timeout=30).status_code == 200


# -- the pictures alone ---------------------------------------------------------------------------


def test_the_pictures_are_deterministic_and_escaped():
    nets = [Net("n1", "ext", ["172.24.4.0/24"], True), Net("n2", "<lan>", ["10.0.0.0/24"])]
    devices = [
        Device("r1", "gw", "router", "ACTIVE", [Link("n1", ["172.24.4.9"]), Link("n2", ["10.0.0.1"])]),
        Device("s1", "a&b", "server", "BUILD", [Link("n2", ["10.0.0.5"], ["172.24.4.20"])]),
        Device("s2", "lonely", "server", "ACTIVE"),
    ]
    picture = topology_svg(nets, devices)
    assert picture == topology_svg(nets, devices)
    assert "&lt;lan&gt;" in picture and "<lan>" not in picture and "a&amp;b" in picture
    assert picture.count('class="os-network') == 2 and picture.count('class="os-server"') == 2
    assert "FIP 172.24.4.20" in picture
    graph = stack_svg([Resource("b", "T", "CREATE_COMPLETE"), Resource("a", "T", "INIT_COMPLETE")], {"a": ["b"]})
    assert graph.count('class="os-dependency"') == 1
    grid = stack_svg([Resource(n, "T", "CREATE_COMPLETE") for n in "abcde"], {})
    assert 'class="os-dependency"' not in grid
    assert len(set(re.findall(r'<rect x="(\d+)"', grid))) == 3  # a 3-wide grid


SVG = "{http://www.w3.org/2000/svg}"
Box = tuple[float, float, float, float]  #: left, top, right, bottom


def text_boxes(picture: ET.Element) -> list[tuple[str, Box]]:
    """Every text of the picture with the box it takes, sized by the dashboard's own text_width."""
    boxes = []
    for text in picture.iter(f"{SVG}text"):
        parts = list(text.iter(f"{SVG}tspan")) or [text]
        width = sum(text_width(p.text or "", p.get("class", "")) for p in parts) + 10 * (len(parts) - 1)
        size = max(text_size(p.get("class", "")) for p in parts)
        x, y = float(text.get("x")), float(text.get("y"))
        left = {"start": x, "middle": x - width / 2}[text.get("text-anchor", "start")]
        boxes.append(("".join(text.itertext()), (left, y - size, left + width, y + size / 4)))
    return boxes


def overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_links_end_at_their_own_bar_and_no_text_overlaps_another():
    """A server on three networks: its lines to the lower two pass the bars in between through
    breaks in them, and no line runs over a text, no text over another."""
    nets = [Net("ext", "public", ["172.24.4.0/24"], True)]
    nets += [Net(f"n{i}", f"a-rather-long-network-name-{i}", [f"10.{i}.0.0/24", f"fd00:{i}::/64"]) for i in (1, 2, 3)]
    devices = [
        Device("r", "gw", "router", "ACTIVE", [Link("n1", ["10.1.0.1"]), Link("ext", ["172.24.4.2"])]),
        Device("s", "three", "server", "ACTIVE", [Link(f"n{i}", [f"10.{i}.0.5", f"fd00:{i}::5"]) for i in (1, 2, 3)]),
        Device("t", "two", "server", "BUILD", [Link("n3", ["10.3.0.7"]), Link("n1", ["10.1.0.7"], ["172.24.4.9"])]),
        Device("u", "low", "server", "ACTIVE", [Link("n2", ["10.2.0.9"]), Link("n3", ["10.3.0.9"])]),
    ]
    picture = ET.fromstring(topology_svg(nets, devices))
    bars = [
        (net.get("data-id"), float(r.get("x")), float(r.get("y")), float(r.get("width")), float(r.get("height")))
        for net in picture.iter(f"{SVG}g")
        if "os-network" in net.get("class", "")
        for r in net.iter(f"{SVG}rect")
    ]
    ports = [
        (g.get("data-network"), g.find(f"{SVG}line")) for g in picture.iter(f"{SVG}g") if g.get("class") == "os-port"
    ]
    assert len(ports) == 9
    texts = text_boxes(picture)
    for network, line in ports:
        x, y1, y2 = float(line.get("x1")), float(line.get("y1")), float(line.get("y2"))
        top, bottom = min(y1, y2), max(y1, y2)
        crossed = [n for n, bx, by, bw, bh in bars if bx < x < bx + bw and top < by + bh and by < bottom]
        assert crossed == [], (network, x)
        ends = [n for n, bx, by, bw, bh in bars if bx <= x <= bx + bw and y2 in (by, by + bh)]
        assert ends == [network], (network, x)  # it ends at its own bar's edge
        over = [value for value, (left, t, right, b) in texts if left < x < right and top < b and t < bottom]
        assert over == [], (network, x)
    assert "fd00:2::5" in "".join(value for value, _ in texts)
    for index, (value, box) in enumerate(texts):
        for other, other_box in texts[index + 1 :]:
            assert not overlap(box, other_box), (value, other)


def test_without_chromium_the_browser_helper_says_what_to_install(monkeypatch):
    from stacksim.testing_browser import browser_problem

    monkeypatch.setenv("PATH", "/nonexistent")
    problem = browser_problem()
    assert problem is not None and "chromium" in problem and "make browser" in problem
