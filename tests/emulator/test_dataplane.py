"""The emulator's Azure OpenAI data plane, through the real `openai` package's AzureOpenAI client."""
from __future__ import annotations

import base64
import struct

import httpx
import openai
import pytest
from openai import AzureOpenAI

API_VERSION = "2024-10-21"


def deploy(cognitive, name: str, model: str, version: str, *, sku: str = "GlobalStandard", capacity: int = 10,
           **properties):
    return cognitive.deployments.begin_create_or_update(
        "rg", "acct", name, {"sku": {"name": sku, "capacity": capacity},
                             "properties": {"model": {"format": "OpenAI", "name": model, "version": version},
                                            **properties}}).result()


def client(emulator, endpoint: str, *, key: str | None = None, token: str | None = None,
           max_retries: int = 0) -> AzureOpenAI:
    auth = {"api_key": key} if key is not None else {"azure_ad_token": token}
    return AzureOpenAI(azure_endpoint=endpoint, api_version=API_VERSION, max_retries=max_retries,
                       http_client=httpx.Client(verify=emulator.ca_path), **auth)


@pytest.fixture
def endpoint(cognitive, account):
    return cognitive.accounts.get("rg", "acct").properties.endpoint


@pytest.fixture
def key(cognitive, account):
    return cognitive.accounts.list_keys("rg", "acct").key1


@pytest.fixture
def chat(cognitive, account):
    return deploy(cognitive, "chat", "gpt-4o", "2024-11-20")


def test_the_reported_endpoint_points_at_the_emulator(emulator, endpoint):
    assert endpoint == f"{emulator.base_url}/acct.openai.azure.com/"


def test_chat_completion_with_the_account_key(emulator, endpoint, key, chat):
    answer = client(emulator, endpoint, key=key).chat.completions.with_raw_response.create(
        model="chat", messages=[{"role": "user", "content": "Say hello"}], max_tokens=5)
    completion = answer.parse()
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o-2024-11-20"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].finish_reason == "length"
    # gpt-4o's tokenizer (o200k_base): "This", " is", " the", " emulator", "'s" are the first 5 tokens
    assert completion.choices[0].message.content == "This is the emulator's"
    assert completion.usage.completion_tokens == 5
    assert completion.usage.prompt_tokens == 3 + 1 + 2 + 3  # per message, "user", "Say hello", reply priming
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + 5
    assert int(answer.headers["x-ratelimit-remaining-requests"]) >= 0
    assert int(answer.headers["x-ratelimit-remaining-tokens"]) > 0


def test_answers_are_deterministic(emulator, endpoint, key, chat):
    openai_client = client(emulator, endpoint, key=key)
    first, second = (openai_client.chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "Same question"}]) for _ in range(2))
    assert first.choices[0].message.content == second.choices[0].message.content
    assert "Same question" in first.choices[0].message.content
    assert first.choices[0].finish_reason == "stop"


def test_embeddings_as_floats_and_base64(emulator, cognitive, endpoint, key, account):
    deploy(cognitive, "embed", "text-embedding-3-small", "1", sku="Standard")
    openai_client = client(emulator, endpoint, key=key)
    decoded = openai_client.embeddings.create(model="embed", input=["one", "two"])  # the client asks for base64
    floats = openai_client.embeddings.create(model="embed", input="one", encoding_format="float")
    assert [d.index for d in decoded.data] == [0, 1]
    assert len(decoded.data[0].embedding) == 1536
    assert decoded.data[0].embedding == pytest.approx(floats.data[0].embedding, abs=1e-6)
    assert decoded.data[0].embedding != decoded.data[1].embedding
    assert sum(x * x for x in floats.data[0].embedding) == pytest.approx(1.0, abs=1e-4)
    assert floats.model == "text-embedding-3-small" and floats.usage.prompt_tokens == 1
    short = openai_client.embeddings.create(model="embed", input="one", dimensions=256, encoding_format="float")
    assert len(short.data[0].embedding) == 256


def test_raw_base64_is_little_endian_float32(emulator, endpoint, key, cognitive, account):
    deploy(cognitive, "embed", "text-embedding-3-small", "1", sku="Standard")
    response = httpx.post(f"{endpoint}openai/deployments/embed/embeddings?api-version={API_VERSION}",
                          headers={"api-key": key}, json={"input": "x", "encoding_format": "base64"},
                          verify=emulator.ca_path)
    raw = base64.b64decode(response.json()["data"][0]["embedding"])
    assert len(struct.unpack(f"<{len(raw) // 4}f", raw)) == 1536


def test_entra_token_for_cognitive_services(emulator, endpoint, chat):
    token = emulator.control.access_token(audience="https://cognitiveservices.azure.com")
    completion = client(emulator, endpoint, token=token).chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    assert completion.choices[0].message.content


def test_token_for_another_audience_is_refused(emulator, endpoint, chat):
    token = emulator.control.access_token(audience="https://management.azure.com/")
    with pytest.raises(openai.AuthenticationError) as caught:
        client(emulator, endpoint, token=token).chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 401
    assert caught.value.body["code"] == "401"
    assert "audience is incorrect" in caught.value.body["message"]


def test_wrong_key_and_no_credentials_are_401(emulator, endpoint, chat):
    with pytest.raises(openai.AuthenticationError) as caught:
        client(emulator, endpoint, key="0" * 32).chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "hi"}])
    assert "invalid subscription key" in caught.value.body["message"]
    response = httpx.post(f"{endpoint}openai/deployments/chat/chat/completions?api-version={API_VERSION}",
                          json={"messages": [{"role": "user", "content": "hi"}]}, verify=emulator.ca_path)
    assert response.status_code == 401


def test_key_refused_when_local_auth_is_disabled(emulator, cognitive, endpoint, key, chat):
    cognitive.accounts.begin_update("rg", "acct", {"properties": {"disableLocalAuth": True}}).result()
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client(emulator, endpoint, key=key).chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body == {"code": "AuthenticationTypeDisabled",
                                 "message": "Key based authentication is disabled for this resource."}
    token = emulator.control.access_token(audience="https://cognitiveservices.azure.com")
    assert client(emulator, endpoint, token=token).chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "hi"}]).choices


def test_public_access_disabled_is_403_from_outside(emulator, cognitive, endpoint, key, chat):
    cognitive.accounts.begin_update("rg", "acct", {"properties": {"publicNetworkAccess": "Disabled"}}).result()
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client(emulator, endpoint, key=key).chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "hi"}])
    assert "Public access is disabled" in caught.value.body["message"]


def test_missing_deployment_is_404_deployment_not_found(emulator, endpoint, key, account):
    with pytest.raises(openai.NotFoundError) as caught:
        client(emulator, endpoint, key=key).chat.completions.create(
            model="nope", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body["code"] == "DeploymentNotFound"
    assert caught.value.body["message"].startswith("The API deployment for this resource does not exist.")


def test_unknown_host_is_404(emulator, key, account):
    with pytest.raises(openai.NotFoundError):
        client(emulator, f"{emulator.base_url}/other.openai.azure.com/", key=key).chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "hi"}])


def test_missing_api_version_is_404(emulator, endpoint, key, chat):
    response = httpx.post(f"{endpoint}openai/deployments/chat/chat/completions", headers={"api-key": key},
                          json={"messages": [{"role": "user", "content": "hi"}]}, verify=emulator.ca_path)
    assert response.status_code == 404


# rate limits: gpt-4o-mini 2024-07-18 GlobalStandard allows 10 requests and 1,000 tokens a minute per unit
def hello(openai_client, **options):
    return openai_client.chat.completions.with_raw_response.create(
        model="mini", messages=[{"role": "user", "content": "hi"}], **options)


@pytest.fixture
def mini(cognitive, account):
    return deploy(cognitive, "mini", "gpt-4o-mini", "2024-07-18", capacity=1)


def test_the_token_estimate_is_charged_at_request_time(emulator, endpoint, key, mini):
    answer = hello(client(emulator, endpoint, key=key), max_tokens=50)
    completion = answer.parse()
    window_tokens = 1000 * 10 // 60  # the 10 s window of 1,000 tokens a minute
    charged = (3 + 1) + 3 + 50  # Azure's estimate: a message of 2 characters, reply priming, and max_tokens
    assert completion.usage.completion_tokens < 50
    assert window_tokens - charged <= int(answer.headers["x-ratelimit-remaining-tokens"]) <= window_tokens - charged + 1
    assert answer.headers["x-ratelimit-remaining-requests"] == "0"


def test_capacity_one_answers_429_with_azures_headers_and_body(emulator, endpoint, key, mini):
    openai_client = client(emulator, endpoint, key=key)
    hello(openai_client)
    with pytest.raises(openai.RateLimitError) as caught:
        hello(openai_client)
    headers = caught.value.response.headers
    wait_ms = int(headers["retry-after-ms"])
    assert 1000 < wait_ms <= 2000  # a tenth of 10 requests a minute is refilled every 6 s; 2/3 of one was left
    assert int(headers["retry-after"]) == -(-wait_ms // 1000)
    assert caught.value.body["code"] == "429"
    assert caught.value.body["message"].startswith(
        f"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version {API_VERSION} have "
        "exceeded call rate limit")
    assert "Please retry after 2 seconds" in caught.value.body["message"]


def test_a_request_over_the_token_window_waits_for_the_tokens(emulator, endpoint, key, mini):
    openai_client = client(emulator, endpoint, key=key)
    first = hello(openai_client, max_tokens=400)  # more than the window holds: it goes through, then is owed
    assert first.headers["x-ratelimit-remaining-tokens"] == "0"
    with pytest.raises(openai.RateLimitError) as caught:
        hello(openai_client, max_tokens=1)
    assert "exceeded token rate limit" in caught.value.body["message"]
    # 166 tokens a window, 407 charged (7 + 400), 8 needed now: 248 tokens short at 1000/60 a second
    assert 14000 < int(caught.value.response.headers["retry-after-ms"]) <= 14900


def test_deployments_are_limited_separately(emulator, cognitive, endpoint, key, mini):
    deploy(cognitive, "other", "gpt-4o-mini", "2024-07-18", capacity=1)
    openai_client = client(emulator, endpoint, key=key)
    hello(openai_client)
    assert openai_client.chat.completions.create(model="other", messages=[{"role": "user", "content": "hi"}])


@pytest.mark.slow  # waits the 2 s the emulator asks for: timing is the point
def test_the_openai_clients_retry_honours_retry_after_ms(emulator, endpoint, key, mini):
    import time

    openai_client = client(emulator, endpoint, key=key, max_retries=3)
    hello(openai_client)
    emulator.control.clear_requests()
    started = time.monotonic()
    completion = hello(openai_client).parse()
    elapsed = time.monotonic() - started
    assert completion.choices[0].message.content
    counts = emulator.control.requests()["counts"]
    route = "POST /{host}/openai/deployments/{deployment}/chat/completions"
    assert counts[route] == 2  # one 429, then one success: the client waited as told, not its own backoff
    assert elapsed >= 1.0


# content filtering: the deployment's RAI policy and its blocklists
@pytest.fixture
def filtered(cognitive, account):
    """A deployment whose policy blocks "forbidden phrase" and /ba[rz]+/ in prompts and "leak" in answers."""
    cognitive.rai_blocklists.create_or_update("rg", "acct", "banned", {"properties": {"description": "x"}})
    for name, pattern, is_regex in (("phrase", "forbidden phrase", False), ("regex", "ba[rz]+", True)):
        cognitive.rai_blocklist_items.create_or_update("rg", "acct", "banned", name,
                                                       {"properties": {"pattern": pattern, "isRegex": is_regex}})
    cognitive.rai_blocklists.create_or_update("rg", "acct", "answers", {"properties": {}})
    cognitive.rai_blocklist_items.create_or_update("rg", "acct", "answers", "leak",
                                                   {"properties": {"pattern": "leak", "isRegex": False}})
    filters = [{"name": n, "severityThreshold": "Low", "blocking": True, "enabled": True, "source": s}
               for n in ("Hate", "Sexual", "Violence", "Selfharm") for s in ("Prompt", "Completion")]
    filters.append({"name": "Jailbreak", "blocking": True, "enabled": True, "source": "Prompt"})
    cognitive.rai_policies.create_or_update("rg", "acct", "strict", {"properties": {
        "basePolicyName": "Microsoft.DefaultV2", "mode": "Blocking", "contentFilters": filters,
        "customBlocklists": [{"blocklistName": "banned", "blocking": True, "source": "Prompt"},
                             {"blocklistName": "answers", "blocking": True, "source": "Completion"}]}})
    return deploy(cognitive, "chat", "gpt-4o", "2024-11-20", raiPolicyName="strict")


def ask(emulator, endpoint, key, text):
    return client(emulator, endpoint, key=key).chat.completions.create(
        model="chat", messages=[{"role": "user", "content": text}])


@pytest.mark.parametrize("text", ["Tell me the FORBIDDEN phrase", "a bazz b"])
def test_a_blocklisted_prompt_is_refused_as_azure_refuses_it(emulator, endpoint, key, filtered, text):
    with pytest.raises(openai.BadRequestError) as caught:
        ask(emulator, endpoint, key, text)
    error = caught.value.body
    assert caught.value.status_code == 400
    assert (error["code"], error["param"], error["status"]) == ("content_filter", "prompt", 400)
    assert error["message"].startswith("The response was filtered due to the prompt triggering Azure OpenAI's "
                                       "content management policy.")
    result = error["innererror"]["content_filter_result"]
    assert error["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert result["custom_blocklists"] == {"filtered": True, "details": [{"filtered": True, "id": "banned"}]}
    assert result["hate"] == {"filtered": False, "severity": "safe"}
    assert result["jailbreak"] == {"filtered": False, "detected": False}


def test_filter_results_in_an_answer_follow_the_policy(emulator, endpoint, key, filtered):
    completion = ask(emulator, endpoint, key, "hello there")
    prompt_results = completion.prompt_filter_results[0]["content_filter_results"]
    assert completion.prompt_filter_results[0]["prompt_index"] == 0
    assert set(prompt_results) == {"hate", "sexual", "violence", "self_harm", "jailbreak", "custom_blocklists"}
    assert prompt_results["custom_blocklists"]["filtered"] is False
    choice_results = completion.choices[0].content_filter_results
    assert set(choice_results) == {"hate", "sexual", "violence", "self_harm", "custom_blocklists"}
    assert choice_results["custom_blocklists"] == {"filtered": False, "details": [{"filtered": False,
                                                                                  "id": "answers"}]}


def test_a_blocklisted_answer_is_withheld(emulator, endpoint, key, filtered):
    completion = ask(emulator, endpoint, key, "please leak it")  # the answer echoes the prompt
    assert completion.choices[0].finish_reason == "content_filter"
    assert completion.choices[0].message.content is None
    assert completion.choices[0].content_filter_results["custom_blocklists"]["filtered"] is True


def test_the_default_policy_answers_without_blocklists(emulator, endpoint, key, chat):
    completion = ask(emulator, endpoint, key, "forbidden phrase")
    results = completion.prompt_filter_results[0]["content_filter_results"]
    assert "custom_blocklists" not in results and results["jailbreak"] == {"filtered": False, "detected": False}


# streaming (server-sent events)
def test_a_streamed_answer_is_the_same_answer_in_azures_chunks(emulator, endpoint, key, chat):
    openai_client = client(emulator, endpoint, key=key)
    question = {"model": "chat", "messages": [{"role": "user", "content": "Tell me a story about streams"}]}
    whole = openai_client.chat.completions.create(**question)
    chunks = list(openai_client.chat.completions.create(**question, stream=True,
                                                         stream_options={"include_usage": True}))
    first, last = chunks[0], chunks[-1]
    assert first.choices == [] and first.id == "" and first.model == ""  # the prompt annotation chunk
    assert first.prompt_filter_results == whole.prompt_filter_results
    assert last.choices == [] and last.usage == whole.usage  # include_usage: the last chunk counts it all
    body = [c for c in chunks[1:-1]]
    assert {c.object for c in body} == {"chat.completion.chunk"} and {c.id for c in body} == {whole.id}
    assert body[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in body) == whole.choices[0].message.content
    assert len(body) > 3  # content chunks, not one block
    assert all(c.usage is None for c in body)
    assert body[-1].choices[0].finish_reason == "stop" and body[-1].choices[0].delta.content is None
    assert all(c.choices[0].content_filter_results["hate"] == {"filtered": False, "severity": "safe"}
               for c in body[1:-1])


def test_the_stream_is_text_event_stream_ending_with_done(emulator, endpoint, key, chat):
    response = httpx.post(f"{endpoint}openai/deployments/chat/chat/completions?api-version={API_VERSION}",
                          headers={"api-key": key}, verify=emulator.ca_path,
                          json={"messages": [{"role": "user", "content": "hi"}], "stream": True})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = response.text.split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    assert all(e.startswith("data: {") for e in events[:-2])
    assert '"usage":{' not in response.text  # no usage without stream_options.include_usage
    assert int(response.headers["x-ratelimit-remaining-tokens"]) > 0


def test_a_blocklisted_answer_stops_the_stream_with_content_filter(emulator, endpoint, key, filtered):
    chunks = list(client(emulator, endpoint, key=key).chat.completions.create(
        model="chat", stream=True, messages=[{"role": "user", "content": "one two three four five please leak it"}]))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed.startswith("This is the emulator's") and "leak" not in streamed
    final = chunks[-1].choices[0]
    assert final.finish_reason == "content_filter"
    assert final.content_filter_results["custom_blocklists"]["filtered"] is True


def test_a_blocklisted_prompt_is_refused_before_any_stream(emulator, endpoint, key, filtered):
    with pytest.raises(openai.BadRequestError) as caught:
        client(emulator, endpoint, key=key).chat.completions.create(
            model="chat", stream=True, messages=[{"role": "user", "content": "the forbidden phrase"}])
    assert caught.value.body["code"] == "content_filter"


# provisioned throughput: utilisation instead of requests and tokens per minute
@pytest.fixture
def provisioned(cognitive, account):
    """gpt-4o at 15 PTU: 2,500 input tokens a minute per PTU, 625 a second; 100 % is 10 s of it (6,250)."""
    return deploy(cognitive, "ptu", "gpt-4o", "2024-11-20", sku="GlobalProvisionedManaged", capacity=15)


def utilisation(answer) -> float:
    return float(answer.headers["azure-openai-deployment-utilization"].rstrip("%"))


def test_provisioned_answers_report_utilisation_not_remaining_tokens(emulator, endpoint, key, provisioned):
    answer = client(emulator, endpoint, key=key).chat.completions.with_raw_response.create(
        model="ptu", messages=[{"role": "user", "content": "hi"}], max_tokens=2000)
    # charged at arrival: 7 prompt tokens (Azure's estimate) + 3 x 2,000 (output weighs 3 input tokens)
    assert utilisation(answer) == pytest.approx(100 * 6007 / 6250, abs=0.2)
    assert "x-ratelimit-remaining-tokens" not in answer.headers


def test_provisioned_utilisation_is_corrected_to_the_actual_answer(emulator, endpoint, key, provisioned):
    openai_client = client(emulator, endpoint, key=key)
    first = openai_client.chat.completions.with_raw_response.create(
        model="ptu", messages=[{"role": "user", "content": "hi"}], max_tokens=2000)
    usage = first.parse().usage
    second = openai_client.chat.completions.with_raw_response.create(
        model="ptu", messages=[{"role": "user", "content": "hi"}], max_tokens=1)
    # the first request now costs what it used (a few tokens), not the 6,000 of its max_tokens
    actual_first = usage.prompt_tokens + 3 * usage.completion_tokens
    assert utilisation(second) <= 100 * (actual_first + 7 + 3) / 6250 + 0.2
    assert utilisation(second) < 2


def test_provisioned_over_100_percent_answers_429_until_it_drains(emulator, endpoint, key, provisioned):
    openai_client = client(emulator, endpoint, key=key)
    long_prompt = " ".join(["word"] * 3000)
    big = openai_client.chat.completions.with_raw_response.create(
        model="ptu", messages=[{"role": "user", "content": long_prompt}], max_tokens=3000)
    usage = big.parse().usage
    assert usage.completion_tokens == 3000  # the answer echoes the prompt: a long, real generation
    cost = usage.prompt_tokens + 3 * usage.completion_tokens  # about 12,000: nearly twice 100 %
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client.chat.completions.create(model="ptu", messages=[{"role": "user", "content": "hi"}],
                                              max_tokens=1)
    wait_ms = int(caught.value.response.headers["retry-after-ms"])
    expected_ms = (cost - 6250) / 625 * 1000  # until the level drains back to 100 %
    assert expected_ms - 1000 <= wait_ms <= expected_ms  # less whatever drained between the two requests
    assert int(caught.value.response.headers["retry-after"]) == -(-wait_ms // 1000)
    assert caught.value.body["code"] == "429"
    assert float(caught.value.response.headers["azure-openai-deployment-utilization"].rstrip("%")) > 100


def test_the_rate_window_is_configurable(emulator, endpoint, key, mini):
    emulator.control.configure(rate_window=1)
    answer = hello(client(emulator, endpoint, key=key), max_tokens=5)
    # a 1 s window of 1,000 tokens a minute holds 16 tokens; this request was charged 7 + 5
    assert int(answer.headers["x-ratelimit-remaining-tokens"]) == 16 - 12
