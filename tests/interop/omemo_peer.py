#!/usr/bin/env python3
"""An OMEMO peer for xft's interop tests, on slixmpp-omemo (PyPI; legacy OMEMO through
python-oldmemo, an implementation xft's authors did not write).

Usage:
  omemo_peer.py recv JID PASSWORD HOST PORT CAFILE OUTDIR
      waits for one OMEMO message; a body that is an aesgcm:// link (XEP-0454) is
      downloaded and decrypted here, with this script's own AES-GCM, into OUTDIR
  omemo_peer.py send-chat JID PASSWORD HOST PORT CAFILE TOJID TEXT
  omemo_peer.py send-file JID PASSWORD HOST PORT CAFILE TOJID INFILE
      encrypts INFILE per XEP-0454 (fresh key, 12-byte IV, tag appended), uploads it
      with slixmpp's xep_0363 and sends the aesgcm:// link in an OMEMO message

Prints "READY <full jid>" once its OMEMO device is published, then one JSON line.
HTTPS certificates are checked against SSL_CERT_FILE (the test run's CA).
Trust: blind trust before verification, as Conversations does by default.
"""

import asyncio
import hashlib
import io
import json
import os
import secrets
import ssl
import sys

import slixmpp
from slixmpp.plugins import register_plugin
from slixmpp.jid import JID
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from omemo.storage import Just, Maybe, Nothing, Storage
from omemo.types import DeviceInformation, JSONType
from slixmpp_omemo import TrustLevel, XEP_0384


class MemoryStorage(Storage):
    """The peer's OMEMO state, for the life of the process (each test has fresh accounts)."""

    def __init__(self):
        super().__init__()
        self.data = {}

    async def _load(self, key: str) -> Maybe[JSONType]:
        return Just(self.data[key]) if key in self.data else Nothing()

    async def _store(self, key: str, value: JSONType) -> None:
        self.data[key] = value

    async def _delete(self, key: str) -> None:
        self.data.pop(key, None)


class XEP_0384Impl(XEP_0384):  # pylint: disable=invalid-name
    default_config = {"fallback_message": "This message is OMEMO encrypted."}

    def plugin_init(self) -> None:
        self.__storage = MemoryStorage()
        super().plugin_init()

    @property
    def storage(self) -> Storage:
        return self.__storage

    @property
    def _btbv_enabled(self) -> bool:
        return True

    async def _devices_blindly_trusted(self, blindly_trusted, identifier):
        pass

    async def _prompt_manual_trust(self, manually_trusted, identifier):
        session_manager = await self.get_session_manager()
        for device in manually_trusted:
            await session_manager.set_trust(device.bare_jid, device.identity_key, TrustLevel.TRUSTED.value)


register_plugin(XEP_0384Impl)


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, password, cafile):
        super().__init__(jid, password)
        for plugin in ["xep_0030", "xep_0060", "xep_0163", "xep_0280", "xep_0334", "xep_0363"]:
            self.register_plugin(plugin)
        self.register_plugin("xep_0384", module=sys.modules[__name__])
        self.ssl_context = ssl.create_default_context(cafile=cafile)
        self.done = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self.on_start)

    async def on_start(self, _):
        self.send_presence()
        await self.get_roster()
        await self["xep_0384"].get_session_manager()
        print("READY", self.boundjid.full, flush=True)
        try:
            await self.run_job()
        except Exception as e:  # report, do not hang
            if not self.done.done():
                self.done.set_exception(e)

    async def send_encrypted(self, to, body):
        msg = self.make_message(mto=JID(to), mtype="chat")
        msg["body"] = body
        encrypted, errors = await self["xep_0384"].encrypt_message(msg, JID(to))
        if encrypted is None:
            raise RuntimeError(f"nothing to send: {errors}")
        encrypted.send()
        # The server handles a stream in order (RFC 6120 §10.1): once it answered
        # this, it has the message.
        await self["xep_0030"].get_info(jid=self.boundjid.domain, timeout=30)
        return [str(e) for e in errors]


class ChatSender(Peer):
    def __init__(self, jid, password, cafile, to, text):
        super().__init__(jid, password, cafile)
        self.to, self.text = to, text

    async def run_job(self):
        errors = await self.send_encrypted(self.to, self.text)
        self.done.set_result({"sent": self.text, "errors": errors})


class FileSender(Peer):
    def __init__(self, jid, password, cafile, to, infile):
        super().__init__(jid, password, cafile)
        self.to, self.infile = to, infile

    async def run_job(self):
        with open(self.infile, "rb") as f:
            plain = f.read()
        key, iv = secrets.token_bytes(32), secrets.token_bytes(12)
        sealed = AESGCM(key).encrypt(iv, plain, None)  # ciphertext ‖ 16-byte tag
        name = os.path.basename(self.infile)
        url = await self["xep_0363"].upload_file(
            name, size=len(sealed), input_file=io.BytesIO(sealed),
            content_type="application/octet-stream", timeout=60)
        assert url.startswith("https://"), url
        link = "aesgcm://" + url[len("https://"):] + "#" + iv.hex() + key.hex()
        errors = await self.send_encrypted(self.to, link)
        self.done.set_result({"url": url, "size": len(plain), "errors": errors,
                              "sha256": hashlib.sha256(plain).hexdigest()})


class Receiver(Peer):
    def __init__(self, jid, password, cafile, outdir):
        super().__init__(jid, password, cafile)
        self.outdir = outdir
        self.add_event_handler("message", self.on_message)

    async def run_job(self):
        pass

    async def on_message(self, msg):
        xep_0384 = self["xep_0384"]
        if self.done.done() or not xep_0384.is_encrypted(msg):
            return
        try:
            decrypted, device = await xep_0384.decrypt_message(msg)
            body = decrypted["body"]
            result = {"body": body, "device": device.device_id}
            if body.startswith("aesgcm://"):
                result.update(await self.fetch(body))
            self.done.set_result(result)
        except Exception as e:
            self.done.set_exception(e)

    async def fetch(self, link):
        import aiohttp
        rest, fragment = link[len("aesgcm://"):].rsplit("#", 1)
        iv, key = bytes.fromhex(fragment[:-64]), bytes.fromhex(fragment[-64:])
        async with aiohttp.ClientSession() as http:
            async with http.get("https://" + rest) as response:
                response.raise_for_status()
                sealed = await response.read()
        plain = AESGCM(key).decrypt(iv, sealed, None)  # checks the tag
        out = os.path.join(self.outdir, "received.bin")
        with open(out, "wb") as f:
            f.write(plain)
        return {"size": len(plain), "iv_len": len(iv), "sha256": hashlib.sha256(plain).hexdigest(),
                "path": out}


async def main():
    mode, jid, password, host, port, cafile, *rest = sys.argv[1:]
    peer = {
        "recv": Receiver,
        "send-chat": ChatSender,
        "send-file": FileSender,
    }[mode](jid, password, cafile, *rest)
    peer.connect(host=host, port=int(port))
    try:
        result = await asyncio.wait_for(peer.done, timeout=120)
        print(json.dumps(result), flush=True)
        code = 0
    except Exception as e:
        print(json.dumps({"error": repr(e)}), flush=True)
        code = 1
    await peer.disconnect()
    sys.exit(code)


if __name__ == "__main__":
    asyncio.run(main())
