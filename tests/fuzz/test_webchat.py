"""S10 at the web chat: hostile form posts get a page or a clear 4xx, never a 500.

Fields of any content (controls, bidi overrides, 10 MB), unknown fields,
broken UTF-8 and wrong content types in raw bodies, on the chat, the return
page and the leave button. After each post the chat page itself still renders.
"""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import Organisation
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.strategies import form_text

pytestmark = pytest.mark.django_db

# 200/302: answered; 400: refused with a page saying why (or Django's own refusal of
# a body too big or malformed); 405: wrong method. Never 500.
CLEAR = {200, 302, 400, 405}
TEN_MB = "я" * (5 * 1024 * 1024)  # 10 MB of UTF-8

fields = st.dictionaries(
    st.sampled_from(["text", "choice", "start", "codename", "passphrase", "csrfmiddlewaretoken"])
    | form_text.filter(lambda name: 0 < len(name) < 50),
    form_text | st.just(TEN_MB),
    max_size=4,
)
raw_bodies = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(
        [
            b"text=\xff\xfe\xc3\x28&choice=\xed\xa0\x80",
            b"text=%FF%FE%C3%28&choice=%ED%A0%80",
            b"text=" + b"%E2%80%AE" * 1000,
            b"&" * 5000 + b"text=a",
            b"text=a&" * 2000,  # more fields than Django accepts
            b'--x\r\nContent-Disposition: form-data; name="text"\r\n\r\n\xff\r\n--x--',
        ]
    ),
)
content_types = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/x-www-form-urlencoded; charset=nonsense",
        "multipart/form-data; boundary=x",
        "multipart/form-data",
        "application/json",
        "text/plain",
    ]
)
paths = st.sampled_from(["/chat/", "/chat/return/", "/chat/leave/", "/chat/upload/"])


def page_renders(client: Client) -> None:
    assert client.get("/chat/").status_code in (200, 400)


@fuzz_settings(60)
@given(posts=st.lists(st.tuples(paths, fields), min_size=1, max_size=4))
def test_hostile_form_fields_get_a_clear_answer(
    org: Organisation, posts: list[tuple[str, dict[str, str]]]
) -> None:
    client = Client()
    client.post("/chat/", {"start": "1"})
    for path, data in posts:
        assert client.post(path, data).status_code in CLEAR
    page_renders(client)


@fuzz_settings(60)
@given(path=paths, body=raw_bodies, content_type=content_types)
def test_hostile_raw_bodies_get_a_clear_answer(
    org: Organisation, path: str, body: bytes, content_type: str
) -> None:
    client = Client()
    client.post("/chat/", {"start": "1"})
    response = client.generic("POST", path, body, content_type=content_type)
    assert response.status_code in CLEAR
    page_renders(client)


@pytest.mark.parametrize("field", ["text", "choice", "codename"])
def test_a_ten_megabyte_field_is_refused_cleanly(org: Organisation, field: str) -> None:
    client = Client()
    client.post("/chat/", {"start": "1"})
    path = "/chat/return/" if field == "codename" else "/chat/"
    assert client.post(path, {field: TEN_MB}).status_code == 400
    page_renders(client)


def test_text_over_the_chat_limit_says_so(org: Organisation) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.post("/chat/", {"start": "1"})
    response = client.post("/chat/", {"text": "x" * 10_001})
    assert response.status_code == 400 and "too long" in response.content.decode()


@pytest.mark.parametrize("codename", ["a\x00b", "\x00", "Birch-42\x00", "%00"])
def test_a_nul_in_the_return_form_is_refused_cleanly(org: Organisation, codename: str) -> None:
    """Found on PostgreSQL, which refuses a NUL in a query: the return form gave a 500."""
    response = Client().post("/chat/return/", {"codename": codename, "passphrase": "a\x00b"})
    assert response.status_code == 400
