"""Speech profiles: a voice, delivery for older ears, and a regional wording flavour."""

from __future__ import annotations

from dataclasses import dataclass, replace

from lessons.speech import Voice

# Tuned for older listeners on phone speakers: a little slower, a little louder, a little
# lower; the pauses between sentences do the rest.
ELDER_RATE = "-10%"
ELDER_VOLUME = "+15%"
ELDER_PITCH = "-2Hz"


@dataclass(frozen=True)
class SpeechProfile:
    """How a group hears its lessons."""

    name: str
    description: str
    voice: Voice
    flavour: bool  # whether framing sentences get the region's wording (lessons.dialect)


def _profile(name: str, description: str, voice: str, flavour: bool) -> SpeechProfile:
    return SpeechProfile(name, description,
                         Voice(voice, ELDER_RATE, ELDER_VOLUME, ELDER_PITCH, profile=name),
                         flavour)


PROFILES: dict[str, SpeechProfile] = {
    p.name: p
    for p in (
        _profile("普通话", "标准普通话，男声，沉稳清楚", "zh-CN-YunyangNeural", False),
        _profile("湘", "湖南味：开场、提问、结尾用长沙说法，普通话男声",
                 "zh-CN-YunyangNeural", True),
        _profile("东北", "东北话女声（辽宁），东北说法", "zh-CN-liaoning-XiaobeiNeural", True),
        _profile("陕西", "陕西话女声，关中说法", "zh-CN-shaanxi-XiaoniNeural", True),
        _profile("粤", "粤语女声（香港），按书面语念，换少量书面也通的广州说法",
                 "zh-HK-HiuMaanNeural", True),
        _profile("台", "台湾腔普通话女声", "zh-TW-HsiaoChenNeural", False),
    )
}
DEFAULT_PROFILE = "普通话"

# The Chinese voices edge-tts offers; no Hunan voice exists there.
CHINESE_VOICES: tuple[tuple[str, str, str], ...] = (
    ("zh-CN-YunyangNeural", "男", "普通话，新闻播音，沉稳"),
    ("zh-CN-YunjianNeural", "男", "普通话，有激情"),
    ("zh-CN-YunxiNeural", "男", "普通话，阳光"),
    ("zh-CN-YunxiaNeural", "男", "普通话，童声（不适合讲课）"),
    ("zh-CN-XiaoxiaoNeural", "女", "普通话，温暖"),
    ("zh-CN-XiaoyiNeural", "女", "普通话，活泼（偏卡通）"),
    ("zh-CN-liaoning-XiaobeiNeural", "女", "东北话（辽宁）"),
    ("zh-CN-shaanxi-XiaoniNeural", "女", "陕西话"),
    ("zh-HK-HiuMaanNeural", "女", "粤语（香港）"),
    ("zh-HK-HiuGaaiNeural", "女", "粤语（香港）"),
    ("zh-HK-WanLungNeural", "男", "粤语（香港）"),
    ("zh-TW-HsiaoChenNeural", "女", "台湾普通话"),
    ("zh-TW-HsiaoYuNeural", "女", "台湾普通话"),
    ("zh-TW-YunJheNeural", "男", "台湾普通话"),
)


class UnknownProfile(ValueError):
    """A profile name that does not exist; the message lists the ones that do."""


def get_profile(name: str | None) -> SpeechProfile:
    """The named profile (普通话 when none is named)."""
    key = (name or DEFAULT_PROFILE).strip()
    try:
        return PROFILES[key]
    except KeyError:
        known = "、".join(PROFILES)
        raise UnknownProfile(f"没有「{key}」这个语音风格，可选：{known}") from None


def effective_profile(group_profile: str | None, lesson_profile: str | None) -> SpeechProfile:
    """A lesson's own profile wins over its group's; unknown names fall back to 普通话."""
    for name in (lesson_profile, group_profile):
        if name and name in PROFILES:
            return PROFILES[name]
    return PROFILES[DEFAULT_PROFILE]


def with_prosody(profile: SpeechProfile, *, rate: str | None = None, volume: str | None = None,
                 pitch: str | None = None, voice: str | None = None) -> SpeechProfile:
    """The profile with its delivery changed (site-wide settings override the defaults)."""
    v = profile.voice
    return replace(profile, voice=replace(v, name=voice or v.name, rate=rate or v.rate,
                                          volume=volume or v.volume, pitch=pitch or v.pitch))
