"""Settings: sensible defaults, and a bad value stops start-up naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults_run_on_one_machine_with_sqlite_in_the_data_folder() -> None:
    settings = load_settings({})
    assert settings.port == 8080
    assert settings.host == "127.0.0.1"
    assert settings.timezone == "Asia/Shanghai"
    assert settings.db_url == f"sqlite:///{Path('data') / 'yehua.db'}"


def test_values_from_the_environment_are_used() -> None:
    settings = load_settings({"YEHUA_PORT": "9000", "YEHUA_DATA_DIR": "/tmp/x",
                              "YEHUA_TTS_RATE": "-20%", "YEHUA_DEMO": "no"})
    assert settings.port == 9000
    assert settings.audio_dir == Path("/tmp/x/audio")
    assert settings.tts_rate == "-20%"
    assert settings.demo is False


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("YEHUA_PORT", "eighty", "port number"),
        ("YEHUA_PORT", "70000", "port number"),
        ("YEHUA_TIMEZONE", "Mars/Olympus", "time zone"),
        ("YEHUA_TTS_RATE", "slow", "percentage"),
        ("YEHUA_TTS_PITCH", "-2", "Hz"),
        ("YEHUA_TTS_ENDPOINT", "http://example", "ws://"),
        ("YEHUA_DEMO", "maybe", "true or false"),
        ("YEHUA_GRACE_MINUTES", "-5", "minutes"),
        ("YEHUA_POINTS_TOP", "0", "names ≥ 1"),
        ("YEHUA_POINTS_BOTTOM", "five", "names ≥ 0"),
        ("YEHUA_PHOTOS_PER_DAY", "lots", "photos"),
        ("YEHUA_REPLY_BACKLOG", "0", "whole number ≥ 1"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_expects(
    variable: str, value: str, expected: str
) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({variable: value})
    assert info.value.variable == variable
    assert variable in str(info.value)
    assert expected in str(info.value)
