#!/usr/bin/env python3
"""A slixmpp peer for xft's interop tests: receives or sends one file with SI, or with
HTTP upload (XEP-0363, slixmpp's xep_0363 plugin, which needs aiohttp).

Usage:
  slix_peer.py recv JID PASSWORD HOST PORT CAFILE OUTFILE
  slix_peer.py send JID PASSWORD HOST PORT CAFILE TOJID INFILE ibb|s5b
  slix_peer.py upload JID PASSWORD HOST PORT CAFILE TOJID INFILE
  slix_peer.py recv-link JID PASSWORD HOST PORT CAFILE OUTFILE

Prints "READY <full jid>" once online, and on success one JSON line with the method
used and the byte count. Works around two slixmpp 1.17 SI bugs (docs/interop.md §1): the
incoming SI handler is registered as a plain Callback around a coroutine (never runs),
and xep_0095.offer() builds its data form wrongly, so the offer is built by hand.
"""

import asyncio
import hashlib
import json
import ssl
import sys
import uuid
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.xmlstream.handler import CoroutineCallback
from slixmpp.xmlstream.matcher import StanzaPath

SI_NS = "http://jabber.org/protocol/si"
FT_NS = "http://jabber.org/protocol/si/profile/file-transfer"
NEG_NS = "http://jabber.org/protocol/feature-neg"
DATA_NS = "jabber:x:data"
IBB_NS = "http://jabber.org/protocol/ibb"
S5B_NS = "http://jabber.org/protocol/bytestreams"


class Peer(slixmpp.ClientXMPP):
    def __init__(self, jid, password, cafile):
        super().__init__(jid, password)
        for plugin in ["xep_0030", "xep_0004", "xep_0020", "xep_0047", "xep_0065", "xep_0092", "xep_0095", "xep_0096"]:
            self.register_plugin(plugin)
        ctx = ssl.create_default_context(cafile=cafile)
        self.ssl_context = ctx
        self.done = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self.on_start)
        si = self["xep_0095"]
        self.remove_handler("SI Request")
        self.register_handler(CoroutineCallback("SI Request", StanzaPath("iq@type=set/si"), si._handle_request))

    async def on_start(self, _):
        self.send_presence()
        await self.get_roster()
        print("READY", self.boundjid.full, flush=True)
        try:
            await self.run_job()
        except Exception as e:  # report, do not hang
            if not self.done.done():
                self.done.set_exception(e)


class Receiver(Peer):
    def __init__(self, jid, password, cafile, outfile):
        super().__init__(jid, password, cafile)
        self.outfile = outfile
        self["xep_0065"].auto_accept = True
        # slixmpp 1.17 consumes the SI pre-authorisation on the first <open/>, even when it
        # refuses that open with resource-constraint, so a smaller retry (XEP-0047 §2.1)
        # would get not-acceptable. Accepting opens outright sidesteps that bug.
        self["xep_0047"].auto_accept = True
        self.add_event_handler("si_request", self.on_si)
        self.add_event_handler("ibb_stream_start", self.on_ibb)
        self.add_event_handler("ibb_stream_data", self.on_ibb_data)
        self.add_event_handler("ibb_stream_end", self.on_ibb_end)
        self.add_event_handler("socks5_data", self.on_s5b_data)
        self.expected = None
        self.method = None
        self.buffer = bytearray()

    async def run_job(self):
        pass

    async def on_si(self, iq):
        si = iq.xml.find("{%s}si" % SI_NS)
        f = si.find("{%s}file" % FT_NS)
        self.expected = int(f.get("size"))
        self.md5 = f.get("hash")
        await self["xep_0095"].accept(iq["from"], si.get("id"), ifrom=iq["to"])

    async def on_ibb(self, stream):
        self.method = "ibb"

    # Not stream.gather(): it appends each block to a bytes object, copying everything
    # received so far each time (16 MiB in 4 KiB blocks took 40 s), which made slixmpp
    # look ten times slower than it sends. A bytearray takes the blocks as they come.
    def on_ibb_data(self, stream):
        while not stream.recv_queue.empty():
            self.buffer.extend(stream.recv_queue.get_nowait())

    def on_ibb_end(self, stream):
        self.on_ibb_data(stream)
        self.finish(bytes(self.buffer))

    def on_s5b_data(self, data):
        self.method = "s5b"
        self.buffer.extend(data)
        if self.expected is not None and len(self.buffer) >= self.expected:
            self.finish(bytes(self.buffer))

    def finish(self, data):
        if self.done.done():
            return
        with open(self.outfile, "wb") as out:
            out.write(data)
        ok = self.md5 is None or hashlib.md5(data).hexdigest() == self.md5
        self.done.set_result({"method": self.method, "size": len(data), "md5_ok": ok})


class Sender(Peer):
    def __init__(self, jid, password, cafile, to, infile, method):
        super().__init__(jid, password, cafile)
        self.to = to
        self.data = open(infile, "rb").read()
        self.name = infile.rsplit("/", 1)[-1]
        self.method = method

    async def run_job(self):
        sid = uuid.uuid4().hex
        ns = IBB_NS if self.method == "ibb" else S5B_NS
        si = ET.Element("{%s}si" % SI_NS, {"id": sid, "profile": FT_NS, "mime-type": "application/octet-stream"})
        ET.SubElement(si, "{%s}file" % FT_NS, {
            "name": self.name, "size": str(len(self.data)), "hash": hashlib.md5(self.data).hexdigest()})
        feature = ET.SubElement(si, "{%s}feature" % NEG_NS)
        x = ET.SubElement(feature, "{%s}x" % DATA_NS, {"type": "form"})
        field = ET.SubElement(x, "{%s}field" % DATA_NS, {"var": "stream-method", "type": "list-single"})
        option = ET.SubElement(field, "{%s}option" % DATA_NS)
        ET.SubElement(option, "{%s}value" % DATA_NS).text = ns
        iq = self.Iq(stype="set", sto=self.to)
        iq.append(si)
        await iq.send(timeout=60)
        if self.method == "ibb":
            stream = await self["xep_0047"].open_stream(self.to, block_size=4096, sid=sid)
            await stream.sendall(self.data)
            await stream.close()
        else:
            sock = await self["xep_0065"].handshake(self.to, sid=sid, timeout=30)
            await sock.write(self.data)
            # write() only queues: close once the kernel has taken every byte.
            while sock.transport.get_write_buffer_size() > 0:
                await asyncio.sleep(0.01)
            sock.transport.close()
        self.done.set_result({"method": self.method, "size": len(self.data)})


OOB_NS = "jabber:x:oob"


class Uploader(Peer):
    """Uploads INFILE with xep_0363 and sends the link as Conversations does."""

    def __init__(self, jid, password, cafile, to, infile):
        super().__init__(jid, password, cafile)
        self.register_plugin("xep_0363")
        self.to = to
        self.infile = infile

    async def run_job(self):
        size = __import__("os").path.getsize(self.infile)
        with open(self.infile, "rb") as f:
            url = await self["xep_0363"].upload_file(
                self.infile.rsplit("/", 1)[-1], size=size, input_file=f, timeout=60)
        msg = self.make_message(mto=self.to, mbody=url, mtype="chat")
        x = ET.Element("{%s}x" % OOB_NS)
        ET.SubElement(x, "{%s}url" % OOB_NS).text = url
        msg.append(x)
        msg.send()
        # The server handles a stream in order (RFC 6120 §10.1): once it has answered
        # this, it has taken the message.
        await self["xep_0030"].get_info(jid=self.boundjid.domain, timeout=30)
        self.done.set_result({"url": url, "size": size})


class LinkReceiver(Peer):
    """Waits for a message with an OOB link and downloads it with aiohttp."""

    def __init__(self, jid, password, cafile, outfile):
        super().__init__(jid, password, cafile)
        self.outfile = outfile
        self.add_event_handler("message", self.on_message)

    async def run_job(self):
        pass

    async def on_message(self, msg):
        x = msg.xml.find("{%s}x" % OOB_NS)
        if x is None or self.done.done():
            return
        url = x.findtext("{%s}url" % OOB_NS)
        import aiohttp
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as response:
                data = await response.read()
                status = response.status
        with open(self.outfile, "wb") as out:
            out.write(data)
        self.done.set_result({"url": url, "status": status, "size": len(data),
                              "body": msg["body"]})


async def main():
    mode = sys.argv[1]
    jid, password, host, port, cafile = sys.argv[2:7]
    if mode == "recv":
        peer = Receiver(jid, password, cafile, sys.argv[7])
    elif mode == "upload":
        peer = Uploader(jid, password, cafile, sys.argv[7], sys.argv[8])
    elif mode == "recv-link":
        peer = LinkReceiver(jid, password, cafile, sys.argv[7])
    else:
        peer = Sender(jid, password, cafile, sys.argv[7], sys.argv[8], sys.argv[9])
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
