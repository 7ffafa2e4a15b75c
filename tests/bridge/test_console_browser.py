"""The console in a real headless Chromium (Debian's chromium + chromium-driver, through selenium) against
the real app and bridge with the simulated modem on a pty: log in, see an SMS injected into the simulated
network arrive in the live feed and the messages page with its story, compose and send one (the parts
counter live), retry a failed one, send one from the tester's phone panel, and at phone width.
Screenshots go to $MODEMBRIDGE_SCREENSHOTS (the ones docs/console.md shows were taken so), else to the
test's folder."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from modembridge.config import HttpConfig
from modembridge.http import create_app

from .conftest import Stack

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("chromedriver") is None,
                                                   reason="needs chromium-driver (installed by .ci/run)")]

TOKEN = "browser-test-token-0123456789"
HOSTILE = "<script>alert('x')</script> hello from the tester"


def chromium() -> Any:
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900"):
        options.add_argument(arg)
    if shutil.which("chromium"):
        options.binary_location = shutil.which("chromium")
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    return webdriver.Chrome(options=options, service=service)


async def fail_next_send(stack: Stack) -> None:
    stack.sim.fail_sends(1, cms=21)  # refused for good (on the loop: the simulator is not thread-safe)


def drive(base: str, shots: Path, on_loop: Callable[[Any], Any], stack: Stack) -> dict[str, Any]:
    """The browser session (blocking: it runs in a thread while the loop serves the app)."""
    seen: dict[str, Any] = {}
    driver = chromium()
    # a page the browser is replacing (after a form's redirect) gives stale elements: look again
    wait = WebDriverWait(driver, 15, ignored_exceptions=(StaleElementReferenceException,))
    try:
        driver.get(base + "/ui/")
        assert driver.current_url.endswith("/ui/login")
        driver.find_element(By.NAME, "token").send_keys(TOKEN)
        driver.find_element(By.CSS_SELECTOR, "form.login button").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-modem="gsm0"]'))
        wait.until(lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class"))  # the stream is up
        on_loop(stack.sim.inject_text("+254711000990", HOSTILE))
        wait.until(lambda d: "hello from the tester" in d.find_element(By.ID, "feed").text)
        seen["feed"] = driver.find_element(By.ID, "feed").text
        try:
            seen["alert"] = driver.switch_to.alert is not None
        except NoAlertPresentException:
            seen["alert"] = False
        driver.save_screenshot(str(shots / "overview.png"))

        driver.get(base + "/ui/messages?q=tester")
        driver.find_element(By.CSS_SELECTOR, "table.list a").click()
        wait.until(lambda d: "read from gsm0" in d.page_source)
        seen["story"] = driver.find_element(By.CSS_SELECTOR, "blockquote.text").text
        driver.save_screenshot(str(shots / "message.png"))

        driver.get(base + "/ui/compose")
        driver.find_element(By.NAME, "to").send_keys("+254711000991")
        driver.find_element(By.ID, "text").send_keys("y" * 161)
        wait.until(lambda d: "2 parts" in d.find_element(By.ID, "counter").text)
        seen["counter"] = driver.find_element(By.ID, "counter").text
        driver.save_screenshot(str(shots / "compose.png"))
        driver.find_element(By.CSS_SELECTOR, "form.compose button").click()
        wait.until(lambda d: "/ui/messages/" in d.current_url)
        first_url = driver.current_url

        def sent(url: str) -> Callable[[Any], bool]:
            def check(d: Any) -> bool:
                d.get(url)
                return "state state-sent" in d.page_source
            return check

        wait.until(sent(first_url))  # both parts out: the fault below is for the next message
        on_loop(fail_next_send(stack))
        driver.get(base + "/ui/compose")
        driver.find_element(By.NAME, "to").send_keys("+254711000992")
        driver.find_element(By.ID, "text").send_keys("refused, then retried")
        driver.find_element(By.CSS_SELECTOR, "form.compose button").click()
        wait.until(lambda d: "/ui/messages/" in d.current_url)
        failed_url = driver.current_url

        def shows_retry(d: Any) -> bool:
            d.get(failed_url)
            return bool(d.find_elements(By.CSS_SELECTOR, 'form[action$="/retry"] button'))

        wait.until(shows_retry)
        driver.find_element(By.CSS_SELECTOR, 'form[action$="/retry"] button').click()

        wait.until(sent(failed_url))
        seen["retried"] = True

        driver.get(base + "/ui/tester")  # the phone panel: an SMS into the simulated network
        driver.find_element(By.NAME, "number").send_keys("+254711000993")
        driver.find_element(By.NAME, "text").send_keys("hello from the phone panel")
        driver.find_element(By.CSS_SELECTOR, "form.compose button").click()
        wait.until(lambda d: "hello from the phone panel" in d.find_element(By.ID, "chat").text)
        seen["tester"] = True
        driver.save_screenshot(str(shots / "tester.png"))

        driver.set_window_size(390, 844)  # a phone
        driver.get(base + "/ui/")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-modem="gsm0"]'))
        seen["overflow"] = driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth")
        driver.save_screenshot(str(shots / "phone.png"))
    except Exception:
        (shots / "failure.html").write_text(driver.page_source)
        driver.save_screenshot(str(shots / "failure.png"))
        raise
    finally:
        driver.quit()
    return seen


async def test_the_console_in_a_real_browser(make_stack: Any, tmp_path: Path) -> None:
    stack: Stack = await make_stack(sim_kw={"control": "127.0.0.1:0"})
    await stack.wait_ready()
    shots = Path(os.environ.get("MODEMBRIDGE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    config = replace(stack.config, http=HttpConfig(api_token=TOKEN, status_token=TOKEN + "-status"))
    runner = web.AppRunner(create_app(config, stack.bridge, stack.bridge.metrics), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    loop = asyncio.get_running_loop()

    def on_loop(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(10)

    try:
        seen = await asyncio.to_thread(drive, base, shots, on_loop, stack)
    finally:
        await runner.cleanup()
    assert not seen["alert"] and HOSTILE in seen["feed"]  # shown as text, never run
    assert seen["story"] == HOSTILE
    assert "GSM 7-bit" in seen["counter"] and "2 parts" in seen["counter"]
    assert seen["retried"] and seen["tester"]
    assert seen["overflow"] <= 1  # nothing wider than a phone's screen
    assert (shots / "overview.png").stat().st_size > 1000
