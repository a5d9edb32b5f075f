#!/usr/bin/python3
"""Delay every packet of an NFQUEUE by a fixed time: the lab's `latency` fault.

The kernels of these machines have no sch_netem (CONFIG_NET_SCH_NETEM is not set), so
`tc qdisc … netem delay` is impossible. lab.sh instead runs this in the node's network
namespace and sends the node's outgoing packets to queue 0 with an iptables NFQUEUE rule
(--queue-bypass: if this program is gone, packets pass). Every packet is held for DELAY_MS
and then accepted, in order, so every round trip through the node's link gets DELAY_MS longer.

usage: netdelay.py DELAY_MS [QUEUE]   ($NETDELAY_READY: a file created once the queue is bound)
"""
import collections
import os
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG, NFQNL_MSG_VERDICT_BATCH = 0, 1, 2, 3
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN, NFQA_CFG_MASK, NFQA_CFG_FLAGS = 1, 2, 3, 4, 5
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NFQA_CFG_F_FAIL_OPEN = 1
NFQA_PACKET_HDR, NFQA_VERDICT_HDR = 1, 2
NF_ACCEPT = 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
SOL_NETLINK, NETLINK_NO_ENOBUFS = 270, 5


def attr(kind, payload):
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * ((4 - length % 4) % 4)


def message(msg_type, queue, attrs, seq, flags=NLM_F_REQUEST):
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue)) + b"".join(attrs)
    return struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg_type, flags, seq, 0) + body


def main():
    delay = int(sys.argv[1]) / 1000.0
    queue = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)
    sock.bind((0, 0))
    seq = 1
    for attrs in (
        [attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_BIND, socket.AF_INET))],
        [attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META)),
         attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", 20000)),
         attr(NFQA_CFG_MASK, struct.pack("!I", NFQA_CFG_F_FAIL_OPEN)),
         attr(NFQA_CFG_FLAGS, struct.pack("!I", NFQA_CFG_F_FAIL_OPEN))],
    ):
        sock.send(message(NFQNL_MSG_CONFIG, queue, attrs, seq, NLM_F_REQUEST | NLM_F_ACK))
        reply = sock.recv(65536)
        _, kind, _, _, _ = struct.unpack_from("=IHHII", reply)
        if kind == NLMSG_ERROR and struct.unpack_from("=i", reply, 16)[0] != 0:
            sys.exit("netdelay: binding queue %d failed: errno %d" % (queue, -struct.unpack_from("=i", reply, 16)[0]))
        seq += 1
    # Bound: from now on a queued packet waits for us (before, --queue-bypass lets it pass).
    ready = os.environ.get("NETDELAY_READY")
    if ready:
        open(ready, "w").close()

    pending = collections.deque()  # (release time, packet id), in arrival order

    def release(until):
        nonlocal seq
        last = None
        while pending and pending[0][0] <= until:
            last = pending.popleft()[1]
        if last is not None:  # one batch verdict accepts every packet id up to `last`
            sock.send(message(NFQNL_MSG_VERDICT_BATCH, queue,
                              [attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, last))], seq))
            seq += 1

    def stop(*_):
        release(float("inf"))
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sock.setblocking(False)
    while True:
        timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else None
        readable, _, _ = select.select([sock], [], [], timeout)
        if readable:
            while True:
                try:
                    data = sock.recv(1 << 16)
                except BlockingIOError:
                    break
                now = time.monotonic()
                offset = 0
                while offset + 16 <= len(data):
                    length, kind, _, _, _ = struct.unpack_from("=IHHII", data, offset)
                    if length < 16:
                        break
                    if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                        pos = offset + 20
                        while pos + 4 <= offset + length:
                            alen, atype = struct.unpack_from("=HH", data, pos)
                            if alen < 4:
                                break
                            if atype & 0x7FFF == NFQA_PACKET_HDR:
                                pending.append((now + delay, struct.unpack_from("!I", data, pos + 4)[0]))
                                break
                            pos += (alen + 3) & ~3
                    offset += (length + 3) & ~3
        release(time.monotonic())


if __name__ == "__main__":
    main()
