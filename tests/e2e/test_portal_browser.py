"""The portal in a real browser (Debian's Chromium via Playwright) against gunicorn and a worker.

Run: DB_HOST=127.0.0.1 DB_USER=postgres DB_NAME=idp_portal .venv/bin/pytest tests/e2e/test_portal_browser.py
Screenshots of the main pages at 1280 px and 390 px, light and dark, go to $SCREENSHOT_DIR
(default: <tmp>/innominatus-screenshots).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright import sync_api as playwright_api

from innominatus.accounts.models import Team
from tests.portal.graph_geometry import crossings, parse

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Screenshots of every page in both colour schemes, outside the repository (never committed).
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "innominatus-screenshots"
)
PASSWORD = "e2e-Passw0rd!"  # a throwaway account in the test database

SPEC = """\
apiVersion: score.dev/v1b1
metadata:
  name: e2e-shop
containers:
  web:
    image: nginx:1.27
    variables:
      DATABASE_HOST: ${resources.db.host}
resources:
  db:
    type: postgres
  cache:
    type: redis
"""
BROKEN_SPEC = SPEC.replace("type: redis", "type: no-such-type").replace("db.host", "nope.host")

RELEASE_WORKFLOW = """\
apiVersion: orchestrator.innominatus.dev/v1
kind: Workflow
metadata:
  name: e2e-release
spec:
  steps:
    - name: build
      type: script
      config:
        script: |
          for i in 1 2 3 4; do echo "build line $i"; sleep 1; done
    - name: unit-tests
      type: script
      dependsOn: [build]
      config:
        script: |
          for i in 1 2 3; do echo "unit line $i"; sleep 1; done
    - name: lint
      type: script
      dependsOn: [build]
      config:
        script: echo "lint clean"
    - name: approve-release
      type: noop
      when: manual
      dependsOn: [unit-tests, lint]
    - name: release
      type: script
      dependsOn: [approve-release]
      config:
        script: |
          for i in 1 2 3; do echo "release line $i"; sleep 1; done
          echo "released e2e-shop"
"""


@pytest.fixture(scope="session")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The manifest storage serves hashed files only after collectstatic, as in the image build."""
    root = tmp_path_factory.mktemp("static")
    env = {**os.environ, "SECRET_KEY": "collectstatic", "DEBUG": "false", "STATIC_ROOT": str(root)}
    command = [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=120)
    return root


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope: the event loop Playwright runs in this thread must be gone before other modules'
    # tests call Django code that uses async_to_sync.
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium chromium-driver (see docs/TOOLS)")
    # Playwright's sync API keeps an event loop running in this thread; the ORM calls of the tests are
    # still plain synchronous code, so Django's async-safety guard must not refuse them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def user(transactional_db: Any) -> Any:
    account = get_user_model().objects.create_user(username="dana", password=PASSWORD, email="d@example.com")
    account.groups.add(Group.objects.get_or_create(name="developer")[0])
    Team.objects.get_or_create(name="shop-team")[0].members.add(account)
    return account


@pytest.fixture
def base_url(user: Any, processes: Any, static_root: Path) -> str:
    """gunicorn and a worker as in production, except plain HTTP (so cookies may not be Secure)."""
    processes.env.update(
        DEBUG="false", STATIC_ROOT=str(static_root), SECURE_COOKIES="false", LOG_FORMAT="console"
    )
    processes.worker()
    return processes.gunicorn()


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    context.close()


def sign_in(page: Any) -> None:
    page.goto("/login")
    page.fill("#id_username", "dana")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)


def mark_page(page: Any) -> None:
    """A marker that a full page load would erase: proves that later changes arrived without a reload."""
    page.evaluate("window.__samePage = true")


def still_same_page(page: Any) -> bool:
    return bool(page.evaluate("window.__samePage === true"))


def deploy_spec(page: Any) -> None:
    page.goto("/deploy")
    page.fill("textarea[name=spec]", BROKEN_SPEC)
    page.click("button[value=validate]")
    problems = page.locator(".problem-row")
    problems.first.wait_for()
    assert page.locator(".problem-row[data-line='8']").count() == 1
    assert page.locator(".problem-row[data-line='13']").count() == 1
    shot(page, "deploy-errors")
    page.fill("textarea[name=spec]", SPEC)
    # The spec editor numbers the lines and highlights the YAML under the textarea.
    assert page.locator(".editor-gutter").inner_text().split()[-1] == str(SPEC.count("\n") + 1)
    assert page.locator(".editor-highlight .nt", has_text="containers").count() == 1
    page.click("button[value=validate]")
    try:
        page.locator("#plan-heading").wait_for()
    except playwright_api.TimeoutError:
        raise AssertionError(f"no plan at {page.url}: {page.locator('main').inner_text()[:2000]}") from None
    assert page.locator("[data-action=create]").count() == 2
    shot(page, "deploy-plan")
    page.click("button[value=deploy]")
    page.wait_for_url(re.compile(r"/workflows/wf-[0-9a-f]+$"))
    assert "Recorded revision 1 of e2e-shop; deploying it as" in page.content()


def launch_release(user: Any) -> str:
    from workflows.engine.loader import load_workflow
    from workflows.models import Application
    from workflows.services.executions import launch_execution
    from workflows.steps.registry import known_step_types

    application = Application.objects.get(name="e2e-shop")
    definition = load_workflow(RELEASE_WORKFLOW, known_step_types=known_step_types())
    execution = launch_execution(
        definition=definition, app_name=application.name, application=application, user=user, trigger="e2e"
    )
    return execution.pk


def test_deploy_then_watch_it_complete_live(page: Any) -> None:
    sign_in(page)
    deploy_spec(page)
    mark_page(page)
    page.locator('#live[data-status="completed"]').wait_for(timeout=90_000)
    page.locator("#log-poller[data-complete=true]").wait_for()
    assert still_same_page(page), "the deploy must progress and finish without a reload"
    assert page.locator("#steps-table tbody tr").count() >= 3  # provision db, provision cache, deploy
    assert page.locator(".log-panel[open] .log-line").count() > 0
    shot(page, "deploy-execution")
    page.goto("/apps/e2e-shop")
    assert page.locator("#manifests-heading").count() == 1
    assert page.locator('#resources-heading ~ * [data-status="active"]').count() == 2


def test_watch_a_gated_workflow_live_and_approve_it(page: Any, user: Any) -> None:
    sign_in(page)
    deploy_spec(page)
    execution_id = launch_release(user)

    page.goto(f"/workflows/{execution_id}")
    mark_page(page)
    build_log = page.locator("#step-build .log-lines")
    build_log.locator(".log-line", has_text="build line 1").wait_for()
    page.locator("#live .graph-node[data-status=running]").first.wait_for()
    assert page.locator("#live .spinner").count() >= 1
    svg = page.locator("#live svg.step-graph").evaluate("(e) => new XMLSerializer().serializeToString(e)")
    boxes, edges = parse(svg)
    assert (len(boxes), len(edges)) == (5, 5)
    assert crossings(svg) == [], "an edge passes through a node that is not its end"
    # A click on a node opens that step's detail (its log panel).
    page.locator('#live .graph-node[data-node="release"] a').first.click()
    page.wait_for_function("location.hash === '#step-release'")
    assert page.locator("#step-release").get_attribute("open") is not None
    page.locator("#step-release summary").click()  # close it again by hand
    shot(page, "execution-running")
    build_log.locator(".log-line", has_text="build line 4").wait_for()
    page.locator("#step-unit-tests .log-line", has_text="unit line 3").wait_for(timeout=30_000)

    gate = page.locator('.decision[data-step="approve-release"]')
    gate.wait_for(timeout=30_000)
    assert still_same_page(page), "steps, logs and the approval form must arrive without a reload"
    assert page.locator('#live [data-status="waiting"]').count() >= 1
    shot(page, "execution-waiting")

    gate.locator("textarea").fill("ship it")
    gate.get_by_role("button", name="Approve approve-release").click()
    page.wait_for_url(re.compile(rf"/workflows/{execution_id}$"))
    assert "Step approve-release approved." in page.content()
    mark_page(page)

    page.locator('#live[data-status="completed"]').wait_for(timeout=60_000)
    page.locator("#step-release .log-line", has_text="released e2e-shop").wait_for()
    page.locator("#log-poller[data-complete=true]").wait_for()
    assert still_same_page(page), "completion must arrive without a reload"
    progress = page.locator("#live .progress[role=progressbar]").first
    assert progress.get_attribute("aria-valuenow") == progress.get_attribute("aria-valuemax") == "5"
    assert "decided by dana" in page.locator("#steps-table").inner_text()
    shot(page, "execution-completed")


def test_a_cancelled_run_stops_every_step_and_the_page_follows_it(page: Any, user: Any) -> None:
    sign_in(page)
    deploy_spec(page)
    execution_id = launch_release(user)
    page.goto(f"/workflows/{execution_id}")
    page.locator('#steps-table tr[data-step="build"][data-status="running"]').wait_for(timeout=30_000)
    assert page.locator("#step-build").get_attribute("open") is not None  # the running step's log is open

    page.get_by_role("button", name="Cancel execution").click()
    page.locator("#confirm").wait_for()
    page.get_by_role("link", name="Keep things as they are").click()
    page.wait_for_url(re.compile(rf"/workflows/{execution_id}$"))
    assert page.locator("#live").get_attribute("data-status") in ("running", "pending")

    page.get_by_role("button", name="Cancel execution").click()
    page.get_by_role("button", name="Cancel execution").click()  # the confirmation page's button
    page.wait_for_url(re.compile(rf"/workflows/{execution_id}$"))
    mark_page(page)
    page.locator('#live[data-status="cancelled"]:not([data-following])').wait_for(timeout=60_000)
    assert still_same_page(page), "the cancellation must reach every step without a reload"
    statuses = page.locator("#steps-table tr[data-step]").evaluate_all(
        "(rows) => rows.map((r) => r.dataset.status)"
    )
    assert "running" not in statuses and "waiting" not in statuses, statuses
    assert page.locator("#live .spinner").count() == 0
    progress = page.locator("#live .progress[role=progressbar]").first
    assert int(progress.get_attribute("aria-valuenow")) < int(progress.get_attribute("aria-valuemax"))
    shot(page, "execution-cancelled")


def test_golden_path_form_reports_an_error_then_launches(page: Any, user: Any) -> None:
    from workflows.services.applications import submit_spec

    # An ephemeral environment belongs to an existing application of the caller's team.
    submit_spec(text=SPEC, content_type="application/yaml", user=user)
    sign_in(page)
    page.goto("/golden-paths")
    shot(page, "golden-paths")
    page.get_by_role("link", name="Run ephemeral-env", exact=True).click()
    page.wait_for_url(re.compile(r"/golden-paths/ephemeral-env$"))

    page.fill("input[name=app_name]", "Not_A_Valid_Name")
    page.get_by_role("button", name="Run ephemeral-env").click()
    error = page.locator("#errors-app_name")
    error.wait_for()
    assert "lowercase letters, digits and dashes" in error.inner_text()  # the pattern in words
    shot(page, "golden-path-error")

    page.fill("input[name=app_name]", "e2e-shop")
    page.fill("input[name=environment]", "pr-42")
    page.get_by_role("button", name="Run ephemeral-env").click()
    page.wait_for_url(re.compile(r"/workflows/wf-[0-9a-f]+$"))
    assert "Started ephemeral-env" in page.content()
    page.locator('#live[data-status="completed"], #live[data-status="failed"]').wait_for(timeout=60_000)
    live = page.locator("#live")
    assert live.get_attribute("data-status") == "completed", live.inner_text()
    assert page.locator("#step-announce").count() == 1


def test_api_key_is_shown_once_and_can_be_revoked(page: Any, base_url: str) -> None:
    sign_in(page)
    page.goto("/profile")
    page.fill("input[name=name]", "laptop-cli")
    page.get_by_role("button", name="Create key").click()
    raw_key = page.locator("#new-api-key").inner_text().strip()
    assert raw_key.startswith("inn_")
    shot(page, "profile-new-key")

    bearer = {"Authorization": f"Bearer {raw_key}"}
    assert requests.get(base_url + "/api/profile", headers=bearer, timeout=10).status_code == 200

    page.goto("/profile")
    assert raw_key not in page.content()
    row = page.locator('tr[data-key="laptop-cli"]')
    assert row.locator("code").inner_text().endswith("…")
    row.get_by_role("button", name="Revoke API key laptop-cli").click()
    page.locator("#confirm").wait_for()
    shot(page, "confirm-revoke")
    page.get_by_role("link", name="Keep things as they are").click()
    page.wait_for_url(re.compile(r"/profile$"))
    assert page.locator('tr[data-key="laptop-cli"] .badge').inner_text() == "active"
    assert requests.get(base_url + "/api/profile", headers=bearer, timeout=10).status_code == 200
    page.locator('tr[data-key="laptop-cli"]').get_by_role("button", name="Revoke API key laptop-cli").click()
    page.get_by_role("button", name="Revoke laptop-cli").click()
    page.wait_for_url(re.compile(r"/profile$"))
    assert page.locator('tr[data-key="laptop-cli"] .badge').inner_text() == "revoked"
    assert requests.get(base_url + "/api/profile", headers=bearer, timeout=10).status_code == 401


UNNAMED_CONTROLS = """
() => {
  const named = (el) => {
    const label = el.getAttribute('aria-label') || el.getAttribute('title') || el.getAttribute('alt');
    if (label && label.trim()) return true;
    const by = el.getAttribute('aria-labelledby');
    const text = (id) => (document.getElementById(id)?.textContent || '').trim();
    if (by && by.split(/\\s+/).some(text)) return true;
    if (el.id && document.querySelector(`label[for="${el.id}"]`)) return true;
    if (el.closest('label')) return true;
    if (el.tagName === 'IMG') return el.hasAttribute('alt');
    return (el.textContent || el.value || '').trim().length > 0;
  };
  const controls = document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, img, svg[role=img]');
  return [...controls].filter((el) => !named(el)).map((el) => el.outerHTML.slice(0, 120));
}
"""

PAGES = [
    ("dashboard", "/"),
    ("applications", "/apps"),
    ("application", "/apps/e2e-shop"),
    ("deploy", "/deploy"),
    ("workflows", "/workflows"),
    ("golden-path-form", "/golden-paths/ephemeral-env"),
    ("resources", "/resources"),
    ("providers", "/providers"),
    ("profile", "/profile"),
]


@pytest.mark.parametrize("width", [1280, 390])
def test_main_pages_fit_the_screen_and_name_their_controls(page: Any, user: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900 if width > 500 else 844})
    sign_in(page)
    deploy_spec(page)
    execution_id = launch_release(user)
    for name, path in [*PAGES, ("execution", f"/workflows/{execution_id}")]:
        page.goto(path)
        if name == "execution":
            page.locator(".log-line").first.wait_for(state="attached")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px at {width}px"
        assert page.evaluate(UNNAMED_CONTROLS) == [], f"{path} has controls without an accessible name"
        shot(page, name)


AXE_VERSION = "4.10.2"
AXE_RUN = """
async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
}
"""


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core from npm, installed once per machine into the temp dir (the test command needs npm)."""
    prefix = Path(tempfile.gettempdir()) / f"innominatus-axe-{AXE_VERSION}"
    script = prefix / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        command = ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(prefix)]
        subprocess.run([*command, f"axe-core@{AXE_VERSION}"], check=True, timeout=300, capture_output=True)
    return script.read_text(encoding="utf-8")


@pytest.mark.parametrize("width", [1280, 390])
def test_axe_finds_no_serious_violation_in_light_and_dark(
    browser: Any, base_url: str, user: Any, axe_source: str, width: int
) -> None:
    # Injecting axe needs an inline script, which the Content-Security-Policy rightly forbids.
    context = browser.new_context(
        base_url=base_url, viewport={"width": width, "height": 900 if width > 500 else 844}, bypass_csp=True
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        page.goto("/login")
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.add_script_tag(content=axe_source)
            assert page.evaluate(AXE_RUN) == [], f"/login ({scheme}, {width}px)"
            page.screenshot(path=str(SCREENSHOTS / f"login-{scheme}-{width}.png"), full_page=True)
        page.emulate_media(color_scheme="light")
        sign_in(page)
        deploy_spec(page)
        execution_id = launch_release(user)
        pages = [
            *PAGES,
            ("inbox", "/inbox"),
            ("not-found", "/no-such-page"),
            ("execution", f"/workflows/{execution_id}"),
        ]
        found = []
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            for name, path in pages:
                page.goto(path)
                if name == "execution":
                    page.locator(".log-line").first.wait_for(state="attached")
                page.add_script_tag(content=axe_source)
                found += [f"{path} ({scheme}, {width}px): {problem}" for problem in page.evaluate(AXE_RUN)]
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{scheme}-{width}.png"), full_page=True)
        assert found == [], "\n".join(found)
    finally:
        context.close()
