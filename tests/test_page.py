"""The service's page (issue 23) in a real browser, Debian's chromium driven by selenium: a user drops a real
pair, runs it, watches it, sees the previews with the overlap outlined, swipes and blinks between the
dates, reads the numbers and downloads an output byte-identical to the core's; in English and in
Simplified Chinese, as the browser's language says; a file that is no raster gets its sentence on the page.

``OVERLAPCLIP_UPDATE_SCREENSHOT=1`` refreshes README's pictures of the page (tests/screenshots/)."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from conftest import ROOT
from osgeo import gdal
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as Driver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from test_service import PAIR, Service, core_run

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
SHOTS = os.path.join(ROOT, "tests", "screenshots")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    running = Service(tmp_path_factory.mktemp("page") / "folder")
    yield running
    running.stop()


@pytest.fixture
def browser(request, tmp_path):
    """Chromium, headless, speaking the language the test is parametrised with, downloading into tmp_path."""
    assert CHROMIUM and CHROMEDRIVER, "make test installs Debian's chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,2000"):
        options.add_argument(argument)
    language = getattr(request, "param", "en-GB")
    options.add_argument(f"--lang={language}")
    options.add_experimental_option(
        "prefs", {"intl.accept_languages": language, "download.default_directory": str(tmp_path / "downloads")}
    )
    driver = webdriver.Chrome(service=Driver(CHROMEDRIVER), options=options)
    driver.language = language
    yield driver
    driver.quit()


def wait(driver, condition, seconds=120):
    return WebDriverWait(driver, seconds, poll_frequency=0.1).until(condition)


def run_pair(driver, service, paths, area="valid"):
    driver.get(service.url + "/")
    driver.find_element(By.ID, "files").send_keys("\n".join(paths))
    Select(driver.find_element(By.ID, "area")).select_by_value(area)
    driver.find_element(By.ID, "run").click()


def loaded(driver, image):
    return driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", image)


@pytest.mark.parametrize("browser", ["en-GB", "zh-CN"], indirect=True)
def test_a_user_clips_a_pair_and_downloads_the_cores_output(browser, service, tmp_path):
    chinese = browser.language == "zh-CN"
    # The later date cut to 600 x 620 pixels from its (150, 100): the common area lies inside the earlier one.
    later = str(tmp_path / "s2_t33uuu_20160529_part.tif")
    gdal.Translate(later, PAIR[1], srcWin=[150, 100, 600, 620])
    pair = (PAIR[0], later)
    run_pair(browser, service, pair)
    seen = set()

    def done(driver):
        seen.add(driver.find_element(By.ID, "message").text)
        return driver.find_element(By.ID, "results").is_displayed() or driver.find_element(By.ID, "error").text

    assert wait(browser, done) is True, browser.find_element(By.ID, "error").text
    # The page said what it was doing, in the browser's language (how much of it a poll sees varies).
    said = ("正在上传", "正在排队", "正在裁剪", "完成") if chinese else ("Uploading", "Waiting", "Clipping", "Done")
    assert all(message.startswith(said) for message in seen if message), seen
    assert browser.find_element(By.ID, "message").text == ("完成。" if chinese else "Done.")
    assert browser.find_element(By.ID, "progress").get_attribute("value") == "100"
    assert browser.find_element(By.ID, "run").text == ("裁剪到公共区域" if chinese else "Clip to the common area")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == ("zh-CN" if chinese else "en")

    # Inputs and outputs side by side, each loaded, each with the overlap outlined: on the earlier date the
    # later one's window, on the later date and on the outputs their whole footprint.
    figures = browser.find_elements(By.CSS_SELECTOR, "#previews figure")
    assert [figure.get_attribute("data-name") for figure in figures] == ["input_a", "input_b", "a", "b"]
    wait(browser, lambda driver: all(loaded(driver, f.find_element(By.TAG_NAME, "img")) for f in figures), 30)
    window = (150 / 768, 750 / 768, 100 / 768, 720 / 768)
    for figure, bounds in zip(figures, [window, (0, 1, 0, 1), (0, 1, 0, 1), (0, 1, 0, 1)]):
        points = figure.find_element(By.TAG_NAME, "polygon").get_attribute("points").split()
        xs, ys = zip(*(map(float, point.split(",")) for point in points))
        assert (min(xs), max(xs), min(ys), max(ys)) == pytest.approx(bounds, abs=1e-6)

    # The numbers: the overlap's size and the shift the core measures.
    expected, result = core_run(tmp_path, pair, ["a", "b"], area="valid", shift="estimate")
    assert (result.overlap.width, result.overlap.height) == (600, 620)
    table = browser.find_element(By.ID, "numbers").text
    assert f"{result.overlap.width} × {result.overlap.height}" in table
    estimate = result.shifts[1]
    assert f"{estimate.dx_px:.2f}" in table and f"{estimate.dy_px:.2f}" in table

    # Swipe and blink: the later date over the earlier one, cut at the slider, then shown and hidden (a pair
    # has no choice of which).
    assert not browser.find_element(By.ID, "choose-dates").is_displayed()
    over = browser.find_element(By.ID, "over")
    browser.execute_script(
        "const s = document.getElementById('swipe'); s.value = 30; s.dispatchEvent(new Event('input'))"
    )
    assert over.value_of_css_property("clip-path") == "inset(0px 70% 0px 0px)"
    blink = browser.find_element(By.ID, "blink")
    blink.click()
    assert over.value_of_css_property("visibility") == "hidden"
    blink.click()
    assert over.value_of_css_property("visibility") == "visible"

    if os.environ.get("OVERLAPCLIP_UPDATE_SCREENSHOT"):
        browser.execute_script(
            "const s = document.getElementById('swipe'); s.value = 50; s.dispatchEvent(new Event('input'));"
            "window.scrollTo(0, 0)"
        )
        from PIL import Image  # only to keep README's pictures small: 256 colours

        shot = os.path.join(SHOTS, f"service_page_{'zh' if chinese else 'en'}.png")
        browser.save_screenshot(shot)
        Image.open(shot).convert("RGB").quantize(256).save(shot, optimize=True)

    # The download, as the user clicks it: the core's bytes.
    link = browser.find_element(By.XPATH, "//ul[@id='downloads']//a[text()='a.tif']")
    link.click()
    target = tmp_path / "downloads" / "a.tif"
    deadline = time.monotonic() + 60
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.read_bytes() == expected["a"]


def test_a_stack_compares_any_two_of_its_dates(browser, service, tmp_path):
    third = str(tmp_path / "s2_t33uuu_20160529_part.tif")
    gdal.Translate(third, PAIR[1], srcWin=[100, 100, 500, 500])
    run_pair(browser, service, (PAIR[0], PAIR[1], third), area="extents")
    wait(browser, lambda driver: driver.find_element(By.ID, "results").is_displayed())
    assert browser.find_element(By.ID, "choose-dates").is_displayed()
    under = Select(browser.find_element(By.ID, "under-choice"))
    over = Select(browser.find_element(By.ID, "over-choice"))
    names = ["raster_1", "raster_2", "raster_3"]
    assert [option.text for option in under.options] == names == [option.text for option in over.options]
    assert (under.first_selected_option.text, over.first_selected_option.text) == ("raster_1", "raster_2")
    # The third over the second: both images are those outputs' quick-looks, loaded, the swipe still cutting.
    under.select_by_visible_text("raster_2")
    over.select_by_visible_text("raster_3")
    images = {name: browser.find_element(By.ID, name) for name in ("under", "over")}
    assert images["under"].get_attribute("src").endswith("/raster_2.png")
    assert images["over"].get_attribute("src").endswith("/raster_3.png")
    wait(browser, lambda driver: all(loaded(driver, image) for image in images.values()), 30)
    browser.execute_script(
        "const s = document.getElementById('swipe'); s.value = 20; s.dispatchEvent(new Event('input'))"
    )
    assert images["over"].value_of_css_property("clip-path") == "inset(0px 80% 0px 0px)"


def test_a_file_that_is_no_raster_gets_its_sentence_on_the_page(browser, service, tmp_path):
    text = tmp_path / "notes.tif"
    text.write_text("no raster")
    before = service.files()
    run_pair(browser, service, [PAIR[0], str(text)])
    message = wait(browser, lambda driver: driver.find_element(By.ID, "error").text)
    assert message == (
        "'notes.tif' is not a raster this service reads; give a GeoTIFF (or PNG, JPEG, JPEG 2000 or WebP) file."
    )
    assert not browser.find_element(By.ID, "results").is_displayed()
    # The first file was uploaded (and will expire); the second left nothing.
    assert len(service.files() - before) == 1
