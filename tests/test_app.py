"""synthdet-app: the analysis behind each card, and the page itself in a real (headless) browser."""

import os
import shutil
import socket

import keras
import numpy as np
import pytest
from ml_collections import ConfigDict
from PIL import Image

from synthdet_tf.app.analysis import analyze
from synthdet_tf.detect.detector import Detector
from synthdet_tf.models import build_model
from tests.conftest import SHARED_DEV, random_rgb
from tests.evaluate_fixtures import write_workdir


@pytest.fixture(scope="module")
def keras_detector(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = build_model(ConfigDict({"backbone": "tiny", "weights": "", "dropout": 0.0, "npr": False}), 32)
    return Detector.load(str(write_workdir(tmp_path_factory.mktemp("run"), model, size=32)))


def test_analysis_has_verdict_heatmap_crops_facts_and_provenance(keras_detector, tmp_path):
    path = tmp_path / "big.png"
    Image.fromarray(random_rgb(100, 120)).save(path)
    a = analyze(keras_detector, str(path), "big.png")
    assert a.result["verdict"] in ("REAL", "FAKE", "UNSURE") and 0 <= a.result["fake_probability"] <= 1
    assert a.heatmap is not None and a.heatmap.size == (448, 448)
    assert len(a.crop_scores) == 9 and a.crops is not None  # 100 px >= 2 x 32: native crops scored too
    assert "context" in a.crops_title  # a one-view model's verdict pooled no crops: the map says so
    assert all(0 <= c["probability"] <= 1 and np.isfinite(c["logit"]) for c in a.crop_scores)
    assert a.facts["format"] == "PNG" and a.facts["size"] == "120 x 100"
    assert a.result["provenance"]["declares_ai"] is False


def test_a_bad_file_gives_its_reason_and_a_savedmodel_without_explain_says_so(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    v1 = Detector.load("exported/synthdet/1")
    a = analyze(v1, str(bad), "broken.jpg")
    assert a.result["error"] and "not an image" in a.result["error"] and a.heatmap is None
    good = tmp_path / "ok.png"
    Image.fromarray(random_rgb(64, 64)).save(good)
    b = analyze(v1, str(good), "ok.png")
    assert b.heatmap is None and "explain_images" in b.heatmap_note and b.result["fake_probability"] is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip("headless Chromium not installed (Debian: apt-get install chromium chromium-driver; .ci/run does it)")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,2400",
                "--disable-background-networking", "--disable-component-update", "--no-first-run"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(driver), options=opts)


def test_the_page_in_a_real_browser(tmp_path):
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from synthdet_tf.app.ui import build, launch

    dev_image = sorted((SHARED_DEV / "fake").iterdir())[0] if (SHARED_DEV / "fake").exists() else None
    if dev_image is None:
        pytest.skip("shared dev data not found")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 truncated")
    port = free_port()
    demo = build(Detector.load("exported/synthdet/1"), "synthdet v1")
    launch(demo, "127.0.0.1", port, block=False)
    driver = browser()
    try:
        driver.get(f"http://127.0.0.1:{port}/")
        wait = WebDriverWait(driver, 120)
        upload = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#uploader input[type=file]"))
        upload.send_keys(f"{dev_image.resolve()}\n{broken}")
        wait.until(lambda d: "Could not read this file" in d.find_element(By.ID, "results").text)
        text = driver.find_element(By.ID, "results").text
        assert dev_image.name in text and "broken.jpg" in text
        assert any(v in text for v in ("\nFAKE\n", "\nREAL\n", "\nUNSURE\n"))
        assert "not an image" in text and "Metadata is easy to strip" in text
        driver.save_screenshot(str(tmp_path / "page.png"))
        assert (tmp_path / "page.png").stat().st_size > 10_000
    finally:
        driver.quit()
        demo.close()
