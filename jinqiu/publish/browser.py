"""One headless Chromium kept open, driven over the DevTools protocol on a pipe (no extra package).

Chromium started with --remote-debugging-pipe reads protocol messages on its file descriptor 3 and
writes on 4, each a JSON text ended by a NUL byte. Each `Tab` is a page in a browser context of its
own, so that every tab gets its own renderer process and several print at once on several cores.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading

CHROMIUM = os.environ.get("JINQIU_CHROMIUM", "chromium")
TIMEOUT = 600  # seconds for one protocol call (a print job of many pages included)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions", "--mute-audio",
         "--disable-features=Translate,MediaRouter,OptimizationHints", "--remote-debugging-pipe"]


class BrowserError(Exception):
    """Chromium could not be started, or a call failed; the message is for people."""


def executable() -> str:
    exe = shutil.which(CHROMIUM)
    if exe is None:
        raise BrowserError(f"找不到 {CHROMIUM}；请安装 chromium（Debian: apt-get install chromium fonts-noto-cjk），或用 --no-pdf")
    return exe


def version() -> str:
    """What `chromium --version` says (part of what a printed page depends on)."""
    proc = subprocess.run([executable(), "--version"], capture_output=True, text=True, timeout=60)
    if proc.returncode:
        raise BrowserError(f"chromium --version 失败：{proc.stderr.strip()[-300:]}")
    return proc.stdout.strip()


# Puts the two pipe ends on fds 3 and 4 of the child, then becomes Chromium (no shell involved).
_TRAMPOLINE = """import os, sys
a, b = os.dup(int(sys.argv[1])), os.dup(int(sys.argv[2]))
os.dup2(a, 3)
os.dup2(b, 4)
os.set_inheritable(3, True)  # dup2 onto itself keeps a close-on-exec flag
os.set_inheritable(4, True)
os.execv(sys.argv[3], sys.argv[3:])
"""


class Browser:
    """A running Chromium; use as a context manager. Thread-safe: one thread per Tab."""

    def __init__(self):
        exe = executable()
        self._profile = tempfile.TemporaryDirectory(prefix="jinqiu-chromium-")
        to_child, self._out = os.pipe()
        self._in, from_child = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _TRAMPOLINE, str(to_child), str(from_child),
                 exe, *FLAGS, f"--user-data-dir={self._profile.name}", "about:blank"],
                pass_fds=(to_child, from_child), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE)
        finally:
            os.close(to_child)
            os.close(from_child)
        self._lock = threading.Lock()
        self._next = 0
        self._waiting: dict[int, queue.Queue] = {}
        self._events: dict[str, queue.Queue] = {}  # session id -> its events
        self._stderr: list[bytes] = []
        self._closed = False
        self._threads = [threading.Thread(target=self._read, daemon=True),
                         threading.Thread(target=self._drain_stderr, daemon=True)]
        for thread in self._threads:
            thread.start()
        self.product = self.call("Browser.getVersion")["product"]

    # ---- the pipe

    def _drain_stderr(self):
        with self._proc.stderr as pipe:
            for line in pipe:
                self._stderr.append(line)
                del self._stderr[:-20]

    def _read(self):
        buf = b""
        with os.fdopen(self._in, "rb", buffering=0) as pipe:
            while True:
                chunk = pipe.read(1 << 20)
                if not chunk:
                    break
                buf += chunk
                *messages, buf = buf.split(b"\0")
                for raw in messages:
                    self._dispatch(json.loads(raw))
        for q in list(self._waiting.values()):  # Chromium went away: wake every caller
            q.put({"error": {"message": "chromium 已退出"}})
        for q in list(self._events.values()):
            q.put(None)

    def _dispatch(self, msg: dict):
        if "id" in msg:
            q = self._waiting.pop(msg["id"], None)
            if q is not None:
                q.put(msg)
        elif msg.get("sessionId") in self._events:
            self._events[msg["sessionId"]].put(msg)

    def call(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = TIMEOUT) -> dict:
        q: queue.Queue = queue.Queue(1)
        with self._lock:
            if self._closed:
                raise BrowserError("chromium 已关闭")
            self._next += 1
            msg = {"id": self._next, "method": method, "params": params or {}}
            if session:
                msg["sessionId"] = session
            self._waiting[self._next] = q
            try:
                os.write(self._out, json.dumps(msg).encode() + b"\0")
            except OSError:
                self._waiting.pop(self._next, None)
                raise BrowserError(f"chromium 未响应：{self.stderr()}") from None
        try:
            reply = q.get(timeout=timeout)
        except queue.Empty:
            raise BrowserError(f"chromium 超时（{method}）") from None
        if "error" in reply:
            raise BrowserError(f"chromium {method} 失败：{reply['error'].get('message')} {self.stderr()}")
        return reply.get("result", {})

    def stderr(self) -> str:
        return b"".join(self._stderr).decode(errors="replace").strip()[-300:]

    # ---- tabs

    def tab(self) -> "Tab":
        context = self.call("Target.createBrowserContext")["browserContextId"]
        target = self.call("Target.createTarget", {"url": "about:blank", "browserContextId": context})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self._events[session] = queue.Queue()
        tab = Tab(self, session)
        self.call("Page.enable", session=session)
        return tab

    def close(self):
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            os.write(self._out, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
        except OSError:
            pass
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._out)
        for thread in self._threads:
            thread.join(timeout=30)
        self._profile.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Tab:
    def __init__(self, browser: Browser, session: str):
        self.browser, self.session = browser, session

    def call(self, method: str, params: dict | None = None) -> dict:
        return self.browser.call(method, params, self.session)

    def load(self, url: str) -> None:
        """Open a page and wait for its load event and its fonts."""
        events = self.browser._events[self.session]
        while not events.empty():
            events.get_nowait()
        nav = self.call("Page.navigate", {"url": url})
        if nav.get("errorText"):
            raise BrowserError(f"chromium 打不开 {url}：{nav['errorText']}")
        while True:
            try:
                event = events.get(timeout=TIMEOUT)
            except queue.Empty:
                raise BrowserError(f"chromium 加载超时：{url}") from None
            if event is None:
                raise BrowserError(f"chromium 已退出：{self.browser.stderr()}")
            if event.get("method") == "Page.loadEventFired":
                break
        self.call("Runtime.evaluate", {"expression": "document.fonts.ready.then(() => true)", "awaitPromise": True})

    def pdf(self, url: str, options: dict) -> bytes:
        """The page printed to PDF with Page.printToPDF's options."""
        self.load(url)
        return base64.b64decode(self.call("Page.printToPDF", options)["data"])
