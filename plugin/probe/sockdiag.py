"""The kernel's table of Unix sockets, from the sock_diag netlink interface (what `ss -x` reads), in
pure Python: for each socket its inode, state, bound path, the inode of its peer, and for a
listening socket the connections waiting to be accepted. It is how a client's socket is tied to
the Docker daemon's: `/proc/PID/fd` only says "socket:[inode]". The table is of the network
namespace the probe runs in (the DaemonSet uses the host's). Only a dump request is sent; nothing
about any socket is changed.
"""

from __future__ import annotations

import errno
import socket
import struct
from dataclasses import dataclass

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
UDIAG_SHOW_NAME = 0x1
UDIAG_SHOW_PEER = 0x4
UDIAG_SHOW_ICONS = 0x8
UNIX_DIAG_NAME = 0
UNIX_DIAG_PEER = 2
UNIX_DIAG_ICONS = 3
STATE_LISTEN = 10
_HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port id
_REQUEST = struct.Struct("=BBHIIIII")  # unix_diag_req
_MESSAGE = struct.Struct("=BBBBIII")  # unix_diag_msg: family, type, state, pad, inode, cookie[2]
_ATTRIBUTE = struct.Struct("=HH")  # rtattr: length, type
# A host with a million sockets is still read; more than this many messages is not.
MAX_SOCKETS = 2_000_000


@dataclass(frozen=True)
class UnixSocket:
    inode: int
    state: int
    path: str  # "" when unnamed; an abstract name starts with "@"
    peer: int  # 0 when none
    pending: tuple[int, ...] = ()  # a listener's connections not yet accepted (their server-side inodes)

    @property
    def listening(self) -> bool:
        return self.state == STATE_LISTEN


class SockDiagError(Exception):
    pass


def _attributes(data: bytes, offset: int, end: int) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    while offset + _ATTRIBUTE.size <= end:
        length, kind = _ATTRIBUTE.unpack_from(data, offset)
        if length < _ATTRIBUTE.size:
            break
        found[kind] = data[offset + _ATTRIBUTE.size:offset + length]
        offset += (length + 3) & ~3
    return found


def parse_messages(data: bytes) -> tuple[list[UnixSocket], bool]:
    """The sockets in one netlink datagram, and whether the dump is done."""
    sockets: list[UnixSocket] = []
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, kind, _flags, _seq, _port = _HEADER.unpack_from(data, offset)
        if length < _HEADER.size:
            break
        if kind == NLMSG_DONE:
            return sockets, True
        if kind == NLMSG_ERROR:
            (code,) = struct.unpack_from("=i", data, offset + _HEADER.size)
            raise SockDiagError(f"sock_diag: {errno.errorcode.get(-code, code) if code else 'error'}")
        if kind == SOCK_DIAG_BY_FAMILY and length >= _HEADER.size + _MESSAGE.size:
            _family, _type, state, _pad, inode, _c0, _c1 = _MESSAGE.unpack_from(data, offset + _HEADER.size)
            attrs = _attributes(data, offset + _HEADER.size + _MESSAGE.size, offset + length)
            raw_name = attrs.get(UNIX_DIAG_NAME, b"")
            if raw_name.startswith(b"\0"):
                name = "@" + raw_name[1:].decode("utf-8", "replace")
            else:
                name = raw_name.split(b"\0", 1)[0].decode("utf-8", "replace")
            peer = struct.unpack("=I", attrs[UNIX_DIAG_PEER][:4])[0] if len(attrs.get(UNIX_DIAG_PEER, b"")) >= 4 else 0
            icons_raw = attrs.get(UNIX_DIAG_ICONS, b"")
            pending = struct.unpack(f"={len(icons_raw) // 4}I", icons_raw[:len(icons_raw) // 4 * 4])
            sockets.append(UnixSocket(inode, state, name, peer, tuple(pending)))
        offset += (length + 3) & ~3
    return sockets, False


def unix_sockets() -> list[UnixSocket]:
    """Every Unix socket of this network namespace; SockDiagError when the kernel will not say."""
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
    except (OSError, AttributeError) as err:
        raise SockDiagError(f"sock_diag netlink is not available: {err}") from None
    with sock:
        sock.settimeout(10)
        request = _REQUEST.pack(socket.AF_UNIX, 0, 0, 0xFFFFFFFF, 0,
                                UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS, 0xFFFFFFFF, 0xFFFFFFFF)
        header = _HEADER.pack(_HEADER.size + len(request), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
        try:
            sock.sendto(header + request, (0, 0))
            found: list[UnixSocket] = []
            while len(found) < MAX_SOCKETS:
                batch, done = parse_messages(sock.recv(1 << 20))
                found.extend(batch)
                if done:
                    return found
        except OSError as err:
            raise SockDiagError(f"sock_diag: {err}") from None
    raise SockDiagError(f"sock_diag: more than {MAX_SOCKETS} sockets, not read")
