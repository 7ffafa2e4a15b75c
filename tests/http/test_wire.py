"""http/wire.py: the bytes of the daemon's own requests, and the reader of their answers fed in pieces."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modembridge.http.wire import HttpProtocolError, ResponseReader, encode_request, split_url


def test_a_get_has_its_target_host_and_headers() -> None:
    url = "http://127.0.0.1:8000/backend/kannel/?id=%2B2547&text=a+b%26c#frag"
    where, data = encode_request("GET", url, {"X-Message-Id": "abc"}, None)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert where == ("http", "127.0.0.1", 8000)
    assert lines[0] == b"GET /backend/kannel/?id=%2B2547&text=a+b%26c HTTP/1.1"  # as encoded, no fragment
    assert b"Host: 127.0.0.1:8000" in lines and b"X-Message-Id: abc" in lines
    assert not any(line.lower().startswith(b"content-length") for line in lines) and body == b""


def test_a_post_has_its_length_default_ports_are_left_out_and_ipv6_is_bracketed() -> None:
    where, data = encode_request("POST", "https://[::1]/in", {"Content-Type": "application/json"}, b'{"a":1}')
    assert where == ("https", "::1", 443)
    assert data.startswith(b"POST /in HTTP/1.1\r\nHost: [::1]\r\n")
    assert data.endswith(b"Content-Length: 7\r\n\r\n{\"a\":1}")


def test_credentials_in_the_url_become_basic_auth() -> None:
    _, data = encode_request("GET", "http://user:pa%20ss@site/x", {}, None)
    assert b"Authorization: Basic dXNlcjpwYSBzcw==\r\n" in data  # user:pa ss
    assert b"Host: site\r\n" in data


def test_a_url_without_a_path_asks_for_the_root() -> None:
    assert split_url("http://Site.example")[2] == "/" and split_url("http://site?q=1")[2] == "/?q=1"
    assert split_url("HTTPS://Site.example/x")[0] == ("https", "site.example", 443)


@pytest.mark.parametrize("headers", [{"X-Id": "a\r\nEvil: 1"}, {"X-Id\r\nEvil": "1"}, {"X Id": "1"},
                                     {"": "1"}])
def test_a_header_that_would_split_the_request_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(HttpProtocolError):
        encode_request("GET", "http://site/x", headers, None)


@pytest.mark.parametrize("url", ["ftp://site/x", "http:///x", "/relative", "site/x", "http://site/a b",
                                 "http://site/caf\u00e9", "http://site/x\r\nEvil: 1", "http://us\ter@site/"])
def test_only_absolute_encoded_http_urls_are_requested(url: str) -> None:
    with pytest.raises(HttpProtocolError):
        encode_request("GET", url, {}, None)


def test_content_length_body_kept_up_to_the_limit_and_reusable() -> None:
    r = ResponseReader(keep=4)
    r.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nLocation: /there\r\n\r\n0123")
    assert (r.status, r.complete, r.headers["location"]) == (200, False, "/there")
    r.feed(b"456789")
    assert (r.complete, r.reusable, r.body, r.body_bytes) == (True, True, b"0123", 10)


def test_interim_answers_are_skipped() -> None:
    r = ResponseReader(keep=10)
    r.feed(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
    assert (r.status, r.complete, r.body) == (201, True, b"ok")


@pytest.mark.parametrize("head", [b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                                  b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"])
def test_an_answer_that_ends_its_connection_is_not_reusable(head: bytes) -> None:
    r = ResponseReader()
    r.feed(head)
    assert r.complete and not r.reusable


def test_a_body_without_length_ends_with_the_connection() -> None:
    r = ResponseReader(keep=100)
    r.feed(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close")
    assert not r.complete
    r.feed_eof()
    assert (r.complete, r.reusable, r.body) == (True, False, b"until the close")


@pytest.mark.parametrize("cut", [b"", b"HTTP/1.1 200 OK\r\nContent-Le",
                                 b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort",
                                 b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"])
def test_an_answer_cut_short_by_the_close_is_an_error(cut: bytes) -> None:
    r = ResponseReader()
    if cut:
        r.feed(cut)
    with pytest.raises(HttpProtocolError):
        r.feed_eof()


@pytest.mark.parametrize("junk", [b"SSH-2.0-OpenSSH_9.2\r\n", b"HTTP/1.1 abc OK\r\n\r\n",
                                  b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"])
def test_bytes_that_are_not_http_are_an_error(junk: bytes) -> None:
    with pytest.raises(HttpProtocolError):
        ResponseReader().feed(junk)


def test_bytes_after_the_end_are_an_error() -> None:
    r = ResponseReader()
    r.feed(b"HTTP/1.1 204 No Content\r\n\r\n")
    with pytest.raises(HttpProtocolError):
        r.feed(b"HTTP/1.1 200 OK\r\n")


def _chunked(body: bytes, sizes: list[int]) -> bytes:
    out, pos = b"", 0
    for size in sizes:
        piece = body[pos:pos + size]
        if not piece:
            break
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        pos += len(piece)
    if pos < len(body):
        out += f"{len(body) - pos:x}\r\n".encode() + body[pos:] + b"\r\n"
    return out + b"0\r\n\r\n"


@pytest.mark.parametrize("status", [204, 304])
def test_an_answer_that_has_no_body_by_its_status_ends_with_its_head(status: int) -> None:
    r = ResponseReader(keep=10)
    r.feed(f"HTTP/1.1 {status} X\r\nContent-Length: 5\r\n\r\n".encode())
    assert (r.status, r.complete, r.body) == (status, True, b"")


@given(body=st.binary(max_size=300), status=st.integers(200, 599).filter(lambda s: s not in (204, 304)),
       chunked=st.booleans(),
       sizes=st.lists(st.integers(1, 64), max_size=8), keep=st.integers(0, 200),
       cuts=st.lists(st.integers(0, 400), max_size=6))
def test_an_answer_fed_in_any_pieces_reads_the_same(body: bytes, status: int, chunked: bool, sizes: list[int],
                                                     keep: int, cuts: list[int]) -> None:
    if chunked:
        data = f"HTTP/1.1 {status} X\r\nTransfer-Encoding: chunked\r\n\r\n".encode() + _chunked(body, sizes)
    else:
        data = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    r = ResponseReader(keep=keep)
    pos = 0
    for cut in sorted({min(c, len(data)) for c in cuts}):
        if cut > pos:
            r.feed(data[pos:cut])
            pos = cut
    r.feed(data[pos:])
    assert (r.status, r.complete, r.reusable) == (status, True, True)
    assert (r.body, r.body_bytes) == (body[:keep], len(body))
