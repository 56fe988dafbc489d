"""SSE lines and events: line endings split across chunks, fields, comments, limits, new-api's bare JSON line."""

from __future__ import annotations

import pytest

from b3n._errors import B3nResponseError, B3nServerError
from b3n._sse import LineSplitter, SSEDecoder


def _events(lines: list[str]) -> list[str]:
    return list(SSEDecoder("gpt-4o-mini").feed_all(lines))


def test_data_with_and_without_a_space_and_multi_line_events() -> None:
    assert _events(["data: a", "", "data:b", "", "data:  c", "", "data: x", "data: y", ""]) == [
        "a", "b", " c", "x\ny"]
    assert _events(["data: a\r\n", "\r\n", "data: b\n", "\n"]) == ["a", "b"]  # lines given with their endings


def test_comments_other_fields_and_blank_lines_deliver_nothing() -> None:
    assert _events([": ping", "event: message", "id: 7", "retry: 10", "", "", "data", ""]) == [""]


def test_an_event_left_open_when_the_body_ends_is_delivered() -> None:
    decoder = SSEDecoder()
    assert decoder.feed("data: tail") is None
    assert decoder.close() == "tail" and decoder.close() is None


def test_a_bare_json_error_line_raises_the_relay_error_and_other_bare_lines_are_ignored() -> None:
    with pytest.raises(B3nServerError, match="upstream failed") as caught:
        _events(['{"error": {"message": "upstream failed (request id: r-9)", "type": "upstream_error"}}'])
    assert caught.value.request_id == "r-9"
    assert _events(["{not json", "", '{"choices": [1], "error": null}', '["error"]', "data: ok", ""]) == ["ok"]
    assert _events(['{"error": "x", "choices": [{"index": 0}]}', "data: ok", ""]) == ["ok"]


def test_an_event_exactly_at_the_size_limit_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    import b3n._sse as sse

    monkeypatch.setattr(sse, "MAX_EVENT_CHARS", 11)  # len(" 1234567890"): the space after "data:" counts
    decoder = SSEDecoder()
    for _ in range(2):
        assert decoder.feed("data: 1234567890") is None
        assert decoder.feed("") == "1234567890"


def test_an_event_over_the_size_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import b3n._sse as sse

    monkeypatch.setattr(sse, "MAX_EVENT_CHARS", 10)
    decoder = SSEDecoder()
    decoder.feed("data: 12345")
    with pytest.raises(B3nResponseError, match="stream event longer than"):
        decoder.feed("data: 678901")
    ok = SSEDecoder()
    for _ in range(3):  # the size is per event: it starts again after each one
        ok.feed("data: 12345")
        assert ok.feed("") == "12345"


@pytest.mark.parametrize("pieces", [
    [b"data: 1\r\n\r\ndata: 2\r\n\r\n"],
    [b"data: 1\r", b"\n\r", b"\ndata: 2\r", b"\n", b"\r\n"],
    [b"data: 1\n\ndata: 2\n\n"],
    [b"data: 1\r\rdata: 2\r\r"],
    [b"da", b"ta: 1\n", b"\nd", b"ata: 2\n\n"],
])
def test_line_endings_split_anywhere(pieces: list[bytes]) -> None:
    splitter = LineSplitter()
    lines = [line for piece in pieces for line in splitter.feed(piece)] + splitter.close()
    assert _events(lines) == ["1", "2"]


def test_a_cr_at_the_very_end_still_ends_the_line() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"data: 1\r") == []
    assert splitter.close() == ["data: 1"]
    assert LineSplitter().close() == []


def test_a_line_over_the_limit_is_refused_whole_or_in_pieces() -> None:
    with pytest.raises(B3nResponseError, match="stream line longer than"):
        LineSplitter(max_line=8).feed(b"data: 123456\n")
    splitter = LineSplitter(max_line=8)
    splitter.feed(b"data: ")
    with pytest.raises(B3nResponseError, match="stream line longer than"):
        splitter.feed(b"123")
    splitter = LineSplitter(max_line=8)
    with pytest.raises(B3nResponseError):
        splitter.feed(b"x\n" + b"y" * 9)
    assert LineSplitter(max_line=8).feed(b"data: 12\n") == ["data: 12"]


def test_invalid_utf8_is_replaced_not_raised() -> None:
    assert LineSplitter().feed(b"data: \xff\xfe\n") == ["data: \ufffd\ufffd"]


def test_feed_all_delivers_an_event_left_open_at_the_end() -> None:
    assert _events(["data: a", "", "data: tail"]) == ["a", "tail"]


def test_the_documented_limits_hold_exactly() -> None:
    from b3n._sse import MAX_EVENT_CHARS, MAX_LINE_BYTES

    assert (MAX_LINE_BYTES, MAX_EVENT_CHARS) == (8 * 1024 * 1024, 16 * 1024 * 1024)
    assert len(LineSplitter().feed(b"x" * MAX_LINE_BYTES + b"\n")[0]) == MAX_LINE_BYTES
    with pytest.raises(B3nResponseError, match="longer than 8 MB"):
        LineSplitter().feed(b"x" * (MAX_LINE_BYTES + 1) + b"\n")
    decoder = SSEDecoder()
    decoder.feed("data:" + "y" * (MAX_EVENT_CHARS // 2))
    decoder.feed("data:" + "y" * (MAX_EVENT_CHARS // 2))
    with pytest.raises(B3nResponseError, match="longer than 16 MB"):
        decoder.feed("data:y")


def test_a_cr_lf_split_across_chunks_ends_one_line_only() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"a\r") == [] and splitter.feed(b"\n") == ["a"]
    assert splitter.feed(b"b") == [] and splitter.close() == ["b"]
    splitter = LineSplitter()
    splitter.feed(b"a\r")
    splitter.feed(b"\n")
    assert splitter.close() == []
