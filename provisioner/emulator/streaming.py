"""Chat completions streamed as server-sent events (`"stream": true`), in Azure's chunk shapes.

Azure's default streaming mode (learn.microsoft.com/azure/ai-foundry/openai/concepts/content-streaming):
content is buffered, filtered, and sent in "content chunks" rather than token by token. The stream
opens with the prompt annotation chunk (empty id, object and model, `prompt_filter_results`,
`choices: []`), then `chat.completion.chunk`s: the role, the content chunks (each with the
`content_filter_results` of the text it carries), and the finish reason. A content chunk that a
blocking Completion blocklist would match is not sent: the stream ends with finish_reason
`content_filter` and the filter result, as the documented blocked stream does. With
`stream_options.include_usage` a last chunk with `choices: []` carries `usage` (the other chunks
carry `"usage": null`, as OpenAI's API describes it). Every stream ends with `data: [DONE]`.
"""
from __future__ import annotations

import json
from typing import Callable

CHUNK_WORDS = 4  # words per content chunk: Azure's buffer size is not documented (UNVERIFIED)


class EventStream(list):
    """A reply body of server-sent events: one JSON chunk per event, then the [DONE] sentinel."""

    media_type = "text/event-stream; charset=utf-8"

    def encode(self) -> bytes:
        events = [f"data: {json.dumps(chunk, separators=(',', ':'))}\n\n" for chunk in self]
        return ("".join(events) + "data: [DONE]\n\n").encode()


def chat_stream(completion: dict, *, text: str, finish: str, check: Callable[[str], tuple[dict, bool]],
                include_usage: bool) -> EventStream:
    """`completion` (the answer as a non-streamed body) as chunks. `text` is the generated answer,
    `check(text)` the completion filter's (results, blocked) for a piece of it."""
    head = {"id": completion["id"], "object": "chat.completion.chunk", "created": completion["created"],
            "model": completion["model"], "system_fingerprint": completion["system_fingerprint"]}

    def chunk(delta: dict, filter_results: dict, finish_reason: str | None = None) -> dict:
        return {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None,
                                     "content_filter_results": filter_results}], "usage": None}

    stream = EventStream([{"id": "", "object": "", "created": 0, "model": "",
                           "prompt_filter_results": completion["prompt_filter_results"], "choices": [],
                           "usage": None}])
    stream.append(chunk({"role": "assistant", "content": "", "refusal": None}, {}))
    words, sent = text.split(" "), ""
    for start in range(0, len(words), CHUNK_WORDS):
        piece = " ".join(words[start:start + CHUNK_WORDS])
        piece = piece if start == 0 else " " + piece
        sent += piece
        results, blocked = check(sent)  # the buffer so far: a phrase may span two chunks
        if blocked:
            stream.append(chunk({}, results, "content_filter"))
            break
        stream.append(chunk({"content": piece}, results))
    else:
        stream.append(chunk({}, {}, finish))
    if include_usage:
        stream.append({**head, "choices": [], "usage": completion["usage"]})
    return stream
