#!/usr/bin/python3
"""ConsoleTest.Browser: the operations console in a real browser (Debian's chromium,
headless, driven by chromium-driver through python3-selenium) against a real
`ordersync serve` with traffic (`ordersync loadgen`) and an ERP simulator
(`ordersync erp-sim`) that rejects some commands.

Checks, each by waiting for a condition (never a fixed sleep):
  1. the overview shows live figures (events/s > 0 while loadgen runs, the ERP target);
  2. searching an order shows its timeline;
  3. the dead-letter page lists exactly the orders the ERP rejected;
  4. a replay without the token is refused (and the ERP ledger does not change);
  5. with the token, replay from the page posts the dead-lettered commands (ERP ledger)
     and the list empties; serve logs the action with who and what;
  6. the exceptions and quarantine pages render (quarantine: detail with hex view).
Screenshots of each page go to --screenshots.

Usage: console_browser_test.py --ordersync BIN [--screenshots DIR] [--keep]
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

TOKEN = "console-test-token-5f1c"
WAIT_S = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, condition, timeout=WAIT_S, interval=0.2):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = condition()
        except (NoSuchElementException, StaleElementReferenceException, OSError, ValueError) as e:
            last = e
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def ledger_command_ids(path):
    if not os.path.exists(path):
        return set()
    with open(path) as f:
        return {line.split("\t")[2] for line in f if line.count("\t") >= 6}


def start_browser(tmp):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1366,900", f"--user-data-dir={tmp}/chromium"):
        options.add_argument(flag)
    service = Service("/usr/bin/chromedriver", log_path=os.path.join(tmp, "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_window_size(1366, 900)
    return driver


class Run:
    def __init__(self, args, tmp):
        self.args, self.tmp = args, tmp
        self.procs = []
        self.ports = {k: free_port() for k in ("ingress", "admin", "metrics", "console", "erp")}
        self.ledger = os.path.join(tmp, "ledger.tsv")
        self.url = f"http://127.0.0.1:{self.ports['console']}/"
        self.shots = args.screenshots

    def start(self, name, argv):
        log = open(os.path.join(self.tmp, name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def log(self, name):
        with open(os.path.join(self.tmp, name + ".log")) as f:
            return f.read()

    def write_config(self):
        token_file = os.path.join(self.tmp, "admin.token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        self.config = os.path.join(self.tmp, "ordersync.toml")
        p = self.ports
        with open(self.config, "w") as f:
            f.write(f"""[storage]
data_dir = "{self.tmp}/data"
[ingress]
ack_endpoint = "tcp://127.0.0.1:{p['ingress']}"
pull_endpoint = ""
[erp.targets.erp]
endpoint = "tcp://127.0.0.1:{p['erp']}"
[erp.targets.erp.retry]
initial_backoff_ms = 20
max_backoff_ms = 200
[admin]
endpoint = "tcp://127.0.0.1:{p['admin']}"
token_file = "{token_file}"
[metrics]
listen_address = "127.0.0.1:{p['metrics']}"
scan_interval_s = 1
[console]
listen = "127.0.0.1:{p['console']}"
sample_interval_s = 1
""")

    def shot(self, driver, name):
        if self.shots:
            os.makedirs(self.shots, exist_ok=True)
            driver.save_screenshot(os.path.join(self.shots, f"console-{name}.png"))

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def page(driver, run, hash_):
    driver.get(run.url + hash_)
    name = hash_.split("/")[1].split("?")[0]
    wait_for(f"page {hash_} ready", lambda: driver.find_element(By.ID, "page").get_attribute("data-ready") == name)


def stable(read, attempts=20):
    """read() again when the element it read was replaced meanwhile (the overview
    re-renders its tiles every sample interval)."""
    for _ in range(attempts - 1):
        try:
            return read()
        except StaleElementReferenceException:
            time.sleep(0.05)
    return read()


def text(driver, css):
    return stable(lambda: driver.find_element(By.CSS_SELECTOR, css).text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ordersync", required=True)
    ap.add_argument("--screenshots", default="")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ordersync-console-test-")
    run = Run(args, tmp)
    driver = None
    ok = False
    try:
        run.write_config()
        bin_ = args.ordersync
        # Rejections decided per command id (same verdict on retries); SIGUSR1 turns them off.
        sim = run.start("erp-sim", [bin_, "erp-sim", "--endpoint", f"tcp://127.0.0.1:{run.ports['erp']}",
                                    "--ledger", run.ledger, "--reject-rate", "0.04", "--seed", "11"])
        serve = run.start("serve", [bin_, "--config", run.config, "serve"])
        session = wait_for("the console to answer", lambda: get_json(run.url + "api/session"))
        assert session["actions_enabled"] is True, session
        loadgen = run.start("loadgen", [bin_, "--config", run.config, "loadgen", "--seconds", "12", "--rate", "150",
                                        "--producers", "2", "--malformed", "0.01", "--seed", "5", "--quiet"])

        driver = start_browser(tmp)

        # 1. Overview: live figures while loadgen runs.
        page(driver, run, "#/overview")
        wait_for("events/s > 0 on the overview",
                 lambda: re.match(r"^[1-9][0-9,.]* /s", text(driver, "#tile-received .value")))
        wait_for("the ERP target on the overview", lambda: "erp" in text(driver, "#targets"))
        assert stable(lambda: driver.find_element(By.ID, "health").get_attribute("data-state")) in ("ok", "warn", "bad")
        assert "UTC" in text(driver, "#updated")
        wait_for("a chart with points", lambda: driver.find_elements(By.CSS_SELECTOR, "#charts path.line"))
        run.shot(driver, "overview")
        print("ok: overview shows", text(driver, "#tile-received .value"), "and the ERP target")

        assert loadgen.wait(timeout=120) == 0, run.log("loadgen")

        # The rejected commands: wait until the DLQ (admin API) holds them all and stays put.
        def settled_dlq():
            a = get_json(run.url + "api/dlq?limit=10000")
            time.sleep(1.5)
            b = get_json(run.url + "api/dlq?limit=10000")
            ids_a = {d["id"] for d in a["dead_letters"]}
            return b if ids_a and ids_a == {d["id"] for d in b["dead_letters"]} else None
        dlq = wait_for("dead letters to settle", settled_dlq, timeout=90)
        rejected_orders = {d["order_id"] for d in dlq["dead_letters"]}
        dead_ids = {d["id"] for d in dlq["dead_letters"]}
        print(f"ok: the ERP sim rejected commands of {len(rejected_orders)} orders ({len(dead_ids)} dead letters)")

        # 2. Order: search one and see its timeline (a dead-lettered order has events and commands).
        order = sorted(rejected_orders)[0]
        page(driver, run, "#/order")
        box = driver.find_element(By.ID, "order-id")
        box.send_keys(order)
        driver.find_element(By.ID, "order-go").click()
        wait_for("the order's timeline", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#timeline li.step")) >= 3)
        assert order in text(driver, "#order-summary")
        kinds = {li.get_attribute("data-kind") for li in driver.find_elements(By.CSS_SELECTOR, "#timeline li.step")}
        assert {"event_received", "event_resolved"} <= kinds, kinds
        assert driver.find_elements(By.CSS_SELECTOR, "#commands tbody tr"), "no commands table"
        corr = driver.find_elements(By.CSS_SELECTOR, "#timeline .ids button.link")
        if corr:
            corr[0].click()
            wait_for("related items highlighted", lambda: driver.find_elements(By.CSS_SELECTOR, "#timeline li.highlight"))
        run.shot(driver, "order")
        print(f"ok: order {order} shows a timeline of {len(kinds)} kinds of steps")

        # 3. Dead letters: the page lists exactly the rejected orders.
        page(driver, run, "#/dlq")
        wait_for("the DLQ table", lambda: driver.find_elements(By.CSS_SELECTOR, "#dlq-table tbody tr"))
        listed = {a.text for a in driver.find_elements(By.CSS_SELECTOR, "#dlq-table tbody tr td:first-child a")}
        assert listed == rejected_orders, (listed, rejected_orders)
        driver.find_element(By.CSS_SELECTOR, "#dlq-table tbody tr").click()
        wait_for("the dead letter's detail", lambda: "Command (decoded)" in text(driver, "#dlq-detail"))
        run.shot(driver, "dlq")
        print(f"ok: the DLQ page lists the {len(listed)} rejected orders")

        # 4. Replay without the token: refused, the ERP sees nothing new.
        posted_before = ledger_command_ids(run.ledger)
        assert not (dead_ids & posted_before)
        driver.find_element(By.ID, "dlq-replay-all").click()
        wait_for("the confirmation", lambda: driver.find_element(By.ID, "confirm-dialog").is_displayed())
        confirm_text = text(driver, "#confirm-text")
        assert "SAME command ids" in confirm_text and str(len(dead_ids)) in confirm_text, confirm_text
        run.shot(driver, "dlq-confirm")
        driver.find_element(By.ID, "confirm-ok").click()
        refused = wait_for("the refusal", lambda: "Refused" in text(driver, "#dlq-message") and text(driver, "#dlq-message"))
        assert "token" in refused, refused
        assert len(driver.find_elements(By.CSS_SELECTOR, "#dlq-table tbody tr")) == len(dead_ids)
        assert not (dead_ids & ledger_command_ids(run.ledger))
        wait_for("the refusal in serve's log", lambda: re.search(r"console: dlq\.replay by anonymous from 127\.0\.0\.1:\d+ refused", run.log("serve")))
        print("ok: replay without the token refused:", refused)

        # 5. The ERP is fixed (rejections off); replay with the token posts them, the list empties.
        sim.send_signal(signal.SIGUSR1)
        driver.find_element(By.ID, "auth-button").click()
        wait_for("the token dialog", lambda: driver.find_element(By.ID, "token-dialog").is_displayed())
        driver.find_element(By.ID, "token-input").send_keys(TOKEN)
        driver.find_element(By.ID, "operator-input").send_keys("selenium")
        driver.find_element(By.ID, "token-save").click()
        wait_for("token set", lambda: "Token set" in text(driver, "#auth-state"))
        driver.find_element(By.ID, "dlq-replay-all").click()
        wait_for("the confirmation", lambda: driver.find_element(By.ID, "confirm-dialog").is_displayed())
        driver.find_element(By.ID, "confirm-ok").click()
        done = wait_for("the replay's report", lambda: "Replayed" in text(driver, "#dlq-message") and text(driver, "#dlq-message"))
        print("ok:", done)
        wait_for("the ERP ledger to show every dead-lettered command posted",
                 lambda: dead_ids <= ledger_command_ids(run.ledger), timeout=90)

        def dlq_empty():
            page(driver, run, "#/dlq")
            return "No dead letters" in text(driver, "#dlq-list")
        wait_for("the DLQ page to be empty", dlq_empty, interval=1)
        run.shot(driver, "dlq-empty")
        wait_for("the replay in serve's log",
                 lambda: re.search(r"console: dlq\.replay by selenium from 127\.0\.0\.1:\d+ done", run.log("serve")))
        print(f"ok: replay posted all {len(dead_ids)} commands (ERP ledger) and the DLQ page is empty")

        # 6. Exceptions and quarantine render; a rejected frame shows its hex view.
        page(driver, run, "#/exceptions")
        wait_for("the exceptions list or its empty state",
                 lambda: driver.find_elements(By.CSS_SELECTOR, "#exception-table, #exception-list .empty"))
        rows = driver.find_elements(By.CSS_SELECTOR, "#exception-table tbody tr")
        if rows:
            rows[0].click()
            wait_for("the exception's decoded event", lambda: "Recorded event" in text(driver, "#exception-detail"))
        run.shot(driver, "exceptions")
        page(driver, run, "#/quarantine")
        wait_for("quarantined frames", lambda: driver.find_elements(By.CSS_SELECTOR, "#quarantine-table tbody tr"))
        driver.find_element(By.CSS_SELECTOR, "#quarantine-table tbody tr").click()
        wait_for("the hex view", lambda: re.search(r"^000000  [0-9a-f]{2} ", text(driver, "#quarantine-hex")))
        run.shot(driver, "quarantine")
        print("ok: exceptions and quarantine pages render (hex view shown)")

        assert serve.poll() is None, "serve exited"
        ok = True
    finally:
        if driver is not None:
            if not ok:
                try:
                    run.shot(driver, "failure")
                except Exception:
                    pass
            driver.quit()
        run.stop()
        if not ok:
            for name in ("serve", "erp-sim", "loadgen"):
                try:
                    print(f"--- {name}.log (tail) ---\n" + run.log(name)[-4000:])
                except OSError:
                    pass
        if args.keep or not ok:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
