"""WeCom callback crypto: the official WXBizMsgCrypt vectors, and what a forger cannot do."""

from __future__ import annotations

import base64

import pytest

from bot.adapters.wecom.adapter import parse_app_message
from bot.adapters.wecom.crypto import CryptoCode, CryptoError, MessageCrypto, signature
from tests.support.fakes.wecom_callback import WeComCallbackClient
from tests.support.wecom import (
    AES_KEY,
    CORP_ID,
    ECHO_SIGNATURE,
    ECHOSTR,
    ENCRYPT,
    MSG_SIGNATURE,
    TOKEN,
)


def test_the_official_message_vector_verifies_and_decrypts_to_hello_from_mycreate() -> None:
    assert signature(TOKEN, "1409659813", "1372623149", ENCRYPT) == MSG_SIGNATURE
    crypto = MessageCrypto(TOKEN, AES_KEY, CORP_ID)
    xml = crypto.open(MSG_SIGNATURE, "1409659813", "1372623149", ENCRYPT).decode()
    event = parse_app_message(xml)
    assert event is not None
    assert (event.user_id, event.text, event.message_id) == ("mycreate", "hello",
                                                             "4561255354251345929")
    assert event.chat_id == "218"  # the app's AgentID


def test_the_official_url_verification_vector_decrypts_to_its_echo() -> None:
    crypto = MessageCrypto(TOKEN, AES_KEY, CORP_ID)
    assert signature(TOKEN, "1409659589", "263014780", ECHOSTR) == ECHO_SIGNATURE
    assert crypto.open(ECHO_SIGNATURE, "1409659589", "263014780", ECHOSTR) == (
        b"1616140317555161061")


def test_a_wrong_signature_is_refused_before_anything_is_decrypted() -> None:
    crypto = MessageCrypto(TOKEN, AES_KEY, CORP_ID)
    with pytest.raises(CryptoError) as caught:
        crypto.open(MSG_SIGNATURE, "1409659814", "1372623149", ENCRYPT)  # timestamp changed
    assert caught.value.code is CryptoCode.SIGNATURE


def test_a_message_for_another_corp_or_under_another_key_is_refused() -> None:
    with pytest.raises(CryptoError) as caught:
        MessageCrypto(TOKEN, AES_KEY, "wx-another-corp").decrypt(ENCRYPT)
    assert caught.value.code is CryptoCode.RECEIVE_ID
    other_key = base64.b64encode(bytes(range(32))).decode()[:43]
    with pytest.raises(CryptoError) as caught:
        MessageCrypto(TOKEN, other_key, CORP_ID).decrypt(ENCRYPT)
    assert caught.value.code is CryptoCode.DECRYPT
    with pytest.raises(CryptoError) as caught:
        MessageCrypto(TOKEN, AES_KEY, CORP_ID).decrypt("not base64 at all!")
    assert caught.value.code is CryptoCode.BASE64


def test_what_the_fake_seals_in_chinese_the_bot_opens() -> None:
    client = WeComCallbackClient("http://unused", TOKEN, AES_KEY, receive_id="")
    message = '{"text":{"content":"@夜话小助手 建议 修一修水渠"}}'.encode()
    encrypt = client.seal(message)
    crypto = MessageCrypto(TOKEN, AES_KEY, "")
    assert crypto.open(client.sign("1", "2", encrypt), "1", "2", encrypt) == message


def test_an_encoding_aes_key_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(CryptoError) as caught:
        MessageCrypto(TOKEN, AES_KEY[:-1], CORP_ID)
    assert caught.value.code is CryptoCode.ILLEGAL_AES_KEY
