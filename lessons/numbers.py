"""Numbers as a local announcer reads them: amounts, dates, times, hotlines, units and ranges.

First the numbers said digit by digit (phones, service numbers, codes, road and room numbers),
then the rest as amounts, dates, times, ratios and ranges.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_DIGITS = "零一二三四五六七八九"
_PHONE_DIGITS = "零幺二三四五六七八九"
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_SECTIONS = ("", "万", "亿", "万亿")

_NUM = r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:[.．]\d+)?"
_DASH = r"\s*[-~～—–]\s*"
_DASHES = r"\s*[-~～—–]{1,2}\s*"
_TO = r"\s*(?:[-~～—–]|至|到)\s*"
_OPEN = r"(?<![\d.．A-Za-z])"
_CLOSE = r"(?!\d|[.．]\d)"

# Counted things before which 2 is said 两; 月, 日, 号 and 年级 are names, not counts.
_LIANG_AFTER = re.compile(
    r"(?!年级)(?:个|位|名|条|件|次|天|年|周|星期|小时|钟头|分钟|秒|岁|家|户|人|口|块|元|角|毛|斤"
    r"|公斤|千克|克|吨|公里|千米|里|米|厘米|亩|平方|倍|张|本|台|辆|头|只|把|杯|碗|顿|遍|趟|回"
    r"|句|点|万|千|百|亿|种|项|份|批|班|座|间|套|棵|株|袋|箱|瓶|包|双|对|样|招|步|成|节|堂|场"
    r"|轮|群|组|片|封|篇|段|首|部|季|桌|餐|门|所|支|根|排|圈|下|声|分|度|摄氏度|公顷|升|毫升|层楼|夜)"
)
# After these a number names a quantity, so a hotline-looking number is read as an amount.
_COUNTED_AFTER = re.compile(
    rf"\s*(?:{_LIANG_AFTER.pattern}|多|余|来|号|月|日|楼|层|[%％℃°]|[A-Za-z])"
)
_HOTLINES = frozenset((
    "110", "119", "120", "122", "12110", "12119", "12315", "12320", "12333", "12338", "12345",
    "12348", "12351", "12355", "12356", "12358", "12365", "12366", "12369", "12377", "12388",
    "12393", "12395", "12396", "96110", "95119", "10000", "10010", "10086", "12306", "12123",
    "12319", "12321", "12328", "12329", "12380", "12381",
))
_SERVICE = re.compile(r"9[56]\d{3}")  # banks' and carriers' five-digit service lines
# After these a digit string is dialled or keyed in, so it is read digit by digit with 幺.
_KEYED_CONTEXT = re.compile(
    r"(?:打|拨|电话|热线|专线|号码|手机|致电|呼叫|联系|区号|客服|邮编|编号|代码|卡号|账号|工号"
    r"|验证码|车次|转)[\s:：是为“\"]*$"
)
_PERIOD_BEFORE = re.compile(
    r"(?:凌晨|早上|早晨|清早|上午|中午|下午|傍晚|晚上|夜里|夜间|半夜|深夜|晚|早)\s*$"
)
_DURATION_YEARS = re.compile(r"\s*年(?:前|来|间|历史|左右|之久|多)")

_LONG_DIGITS = re.compile(r"(?<![\d.．A-Za-z])\d{13,}[Xx]?(?![\d.．])")  # ID and card numbers
_MARKED_DAY = re.compile(r"(?<![\d.．])(\d{1,2})[·•・](\d{1,2})(?!\d)")  # 3·15, 12·9
_GENERATION = re.compile(r"(?<![\d.．])(?:[05-9]0|05)(?=后)")  # 80后, 00后
_ROOM = re.compile(r"(?:(?<=[栋幢])|(?<=单元))\d{3,4}(?!\d)"
                   r"|(?<![\d.．])\d{3,4}(?=\s*(?:室|房间|号房))")
_ROAD = re.compile(r"(?<![\d.．])\d{1,4}(?=\s*(?:国道|省道|县道|乡道))")
_CODED = re.compile(r"(?<![A-Za-z0-9])([A-Z]{1,3})(\d+)(?![\d.．])")  # S312, G4, A4

_DATE = re.compile(rf"{_OPEN}(\d{{4}})([-/.])(\d{{1,2}})\2(\d{{1,2}}){_CLOSE}")
_TIME = r"(\d{1,2})[:：]([0-5]\d)(?:[:：]([0-5]\d))?"
_TIMES = re.compile(rf"(?<![\d:：.])({_TIME})(?:{_TO}({_TIME}))?(?![\d:：])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)((?:0\d{2,3}|400|800))[-－ ](\d{3,4})[-－ ]?(\d{4})(?!\d)")
_BARE_DIGITS = re.compile(r"(?<![\d.．A-Za-z])\d{3,12}(?![\d.．])")
_RATIO = re.compile(r"(?<![\d:：.．])(\d+)[:：](\d+)(?![\d:：.．])")  # 1:1, a 3:2 score
_TIMES_SIGN = re.compile(r"(?<=\d)\s*[×✕]\s*(?=\d)")
_PER = re.compile(
    r"(\d\s*[万千亿]?\s*(?:元|块|角|斤|公斤|千克|克|吨|米|公里|个|次|人|户|天|小时|度|升|立方米"
    r"|平方米|方|件|份|亩|袋|箱))/(?=[\u4e00-\u9fff])"
)
_DASH_RANGE = re.compile(rf"(?<=\d[万千亿元年月日号]){_DASHES}(?=\d)")  # 5万—6万元
_PERCENT = re.compile(rf"{_OPEN}({_NUM})(?:[%％]?{_TO}({_NUM}))?\s*([%％‰])")
_DEGREES = r"(?:℃|°C|°)"
_TEMPERATURE = re.compile(
    rf"(?<![\d.．])(-|零下)?({_NUM})(?:{_DEGREES}?{_DASH}(-|零下)?({_NUM}))?\s*{_DEGREES}"
)
_MONEY = re.compile(rf"[¥￥]\s*({_NUM})(?:{_DASH}({_NUM}))?\s*(万|亿|千)?(元)?")
_UNIT_WORDS = {
    "km/h": "公里每小时", "kWh": "千瓦时", "mAh": "毫安时", "km²": "平方公里", "km": "公里",
    "kg": "公斤", "cm": "厘米", "mm": "毫米", "mg": "毫克", "ml": "毫升", "mL": "毫升",
    "m²": "平方米", "m2": "平方米", "㎡": "平方米", "m³": "立方米", "kW": "千瓦", "KW": "千瓦",
    "kV": "千伏", "KV": "千伏", "kv": "千伏", "MW": "兆瓦",
    "min": "分钟", "W": "瓦", "V": "伏", "L": "升", "g": "克", "m": "米", "t": "吨", "h": "小时",
}
_UNIT_NAMES = "|".join(re.escape(u) for u in sorted(_UNIT_WORDS, key=len, reverse=True))
_UNITS = re.compile(rf"{_OPEN}({_NUM})(?:{_DASH}({_NUM}))?\s?({_UNIT_NAMES})(?![A-Za-z0-9])")
_YEARS = re.compile(r"(?<![\d.．])([12]\d{3})(?:\s*[-~～—–至到]\s*([12]\d{3}))?(?=\s*学?年)")
_YUAN = re.compile(rf"{_OPEN}(\d{{1,3}}(?:,\d{{3}})+|\d+)[.．](\d{{1,2}})\s*元")
_FRACTION = re.compile(r"(?<![\d./])(\d{1,3})/(\d{1,3})(?![\d/])")
_RANGE = re.compile(rf"{_OPEN}({_NUM}){_DASH}({_NUM}){_CLOSE}")
_NUMBER = re.compile(rf"(?<![\d.．])({_NUM})")


def _digits(text: str, table: str = _DIGITS) -> str:
    return "".join(table[int(c)] for c in text if c.isdigit())


def _under_10000(n: int) -> str:
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit == 0:
            zero = bool(out)
            continue
        out += ("零" if zero else "") + _DIGITS[digit] + unit
        zero = False
    return out


def cardinal(n: int, *, liang: bool = False) -> str:
    """An integer in words: 1250 -> 一千二百五十, 10 -> 十; `liang` says 2 as 两 where natural."""
    if n < 0:
        return "负" + cardinal(-n)
    if n >= 10**16:
        return _digits(str(n))
    if n == 0:
        return "零"
    sections = [n // 10**(4 * i) % 10**4 for i in range(4) if n >= 10**(4 * i)]
    out, gap = "", False
    for i in reversed(range(len(sections))):
        section = sections[i]
        if section == 0:
            gap = bool(out)
            continue
        if out and (gap or section < 1000):
            out += "零"
        out += _under_10000(section) + _SECTIONS[i]
        gap = False
    if out.startswith("一十"):
        out = out[1:]
    if liang and (out == "二" or out[:2] in ("二千", "二万", "二亿")):
        out = "两" + out[1:]
    return out


def _amount(text: str, *, liang: bool = False) -> str:
    """A written number (thousands commas, decimals, leading zeros) in words."""
    text = text.replace(",", "").replace("．", ".")
    whole, _, fraction = text.partition(".")
    if len(whole) > 1 and whole.startswith("0"):
        spoken = _digits(whole)
    else:
        spoken = cardinal(int(whole), liang=liang and not fraction)
    return spoken + ("点" + _digits(fraction) if fraction else "")


def _is_count(m: re.Match[str], first: str) -> bool:
    """Whether the number is a count (2 said 两), not an ordinal or a name like 2月."""
    if m.string[: m.start()].rstrip().endswith("第"):
        return False
    return first.strip() != "2" or _LIANG_AFTER.match(m.string, m.end()) is not None


def _period(hour: int) -> str:
    """The part of the day said before a clock hour; a morning hour needs none."""
    names = ((6, "凌晨"), (12, ""), (13, "中午"), (18, "下午"), (25, "晚上"))
    return next(name for end, name in names if hour < end)


def _clock(hour: int, minute: int, second: int, period: bool) -> str:
    twelve = hour if hour <= 12 else hour - 12
    spoken = (_period(hour) if period else "") + cardinal(twelve, liang=True) + "点"
    if minute in (15, 30) and not second:
        return spoken + ("一刻" if minute == 15 else "半")
    if minute:
        spoken += ("零" if minute < 10 else "") + cardinal(minute) + "分"
    if second:
        spoken += ("零" if second < 10 else "") + cardinal(second) + "秒"
    return spoken


def _times(m: re.Match[str]) -> str:
    hour, minute, second = (int(g or 0) for g in m.group(2, 3, 4))
    if hour > 24:
        return m.group()
    period = _PERIOD_BEFORE.search(m.string, 0, m.start()) is None
    spoken = _clock(hour, minute, second, period)
    if m.group(5) is None:
        return spoken
    end_hour, end_minute, end_second = (int(g or 0) for g in m.group(6, 7, 8))
    if end_hour > 24:
        return m.group()
    # 19:30-21:00 is 晚上七点半到九点: the part of the day is said once.
    repeat = period and _period(end_hour) != _period(hour)
    return spoken + "到" + _clock(end_hour, end_minute, end_second, repeat)


def _date(m: re.Match[str]) -> str:
    month, day = int(m.group(3)), int(m.group(4))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group()
    return f"{_digits(m.group(1))}年{cardinal(month)}月{cardinal(day)}日"


def _phone_groups(m: re.Match[str]) -> str:
    return " ".join(_digits(g, _PHONE_DIGITS) for g in m.groups())


def _keyed(m: re.Match[str]) -> str:
    """Digits dialled or keyed in, one by one with 幺; letters (S312, the X of an ID) kept."""
    return "".join(_PHONE_DIGITS[int(c)] if c.isdigit() else c for c in m.group())


def _each_digit(m: re.Match[str]) -> str:
    return _digits(m.group())


def _bare_digits(m: re.Match[str]) -> str:
    text, before = m.group(), m.string[: m.start()]
    if _COUNTED_AFTER.match(m.string, m.end()) or before.rstrip().endswith("第"):
        return text
    if text in _HOTLINES or _SERVICE.fullmatch(text) or _KEYED_CONTEXT.search(before):
        return _digits(text, _PHONE_DIGITS)
    return text


def _ratio(m: re.Match[str]) -> str:
    return _amount(m.group(1)) + "比" + _amount(m.group(2))


def _percent(m: re.Match[str]) -> str:
    word = "千分之" if m.group(3) == "‰" else "百分之"
    spoken = [word + ("百" if value == "100" and word == "百分之" else _amount(value))
              for value in m.group(1, 2) if value is not None]
    return "到".join(spoken)


def _temperature(m: re.Match[str]) -> str:
    unit = "度"  # what the weather forecast says, not 摄氏度
    low = ("零下" if m.group(1) else "") + _amount(m.group(2), liang=True)
    if m.group(4) is None:
        return low + unit
    return low + "到" + ("零下" if m.group(3) else "") + _amount(m.group(4), liang=True) + unit


def _money(m: re.Match[str]) -> str:
    scale = m.group(3) or ""
    values = [v.replace(",", "") for v in m.group(1, 2) if v is not None]
    if not scale and all("." in v for v in values):
        return "到".join(_yuan_words(*v.split(".")) for v in values)
    return "到".join(_amount(v, liang=True) for v in values) + scale + "元"


def _units(m: re.Match[str]) -> str:
    values = [v for v in m.group(1, 2) if v is not None]
    return "到".join(_amount(v, liang=True) for v in values) + _UNIT_WORDS[m.group(3)]


def _years(m: re.Match[str]) -> str:
    first, last = m.group(1, 2)
    if last is not None:
        return _digits(first) + "到" + _digits(last)
    # 2000年前 is two thousand years ago; 2020年前 is before the year 2020.
    if first.endswith("00") and _DURATION_YEARS.match(m.string, m.end()):
        return m.group()
    return _digits(first)


def _yuan_words(whole: str, cents: str) -> str:
    jiao, fen = int(cents[0]), int(cents[1]) if len(cents) > 1 else 0
    spoken = cardinal(int(whole), liang=True) + "元" if int(whole) else ""
    if jiao:
        spoken += cardinal(jiao, liang=True) + "角"
    if fen:
        spoken += ("零" if spoken and not jiao else "") + cardinal(fen, liang=True) + "分"
    return spoken or "零元"


def _yuan(m: re.Match[str]) -> str:
    return _yuan_words(m.group(1).replace(",", ""), m.group(2))


def _fraction(m: re.Match[str]) -> str:
    top, bottom = int(m.group(1)), int(m.group(2))
    if not 0 < top < bottom <= 100:
        return m.group()
    return f"{cardinal(bottom)}分之{cardinal(top)}"


def _range(m: re.Match[str]) -> str:
    liang = _is_count(m, "2")
    return _amount(m.group(1), liang=liang) + "到" + _amount(m.group(2), liang=liang)


def _number(m: re.Match[str]) -> str:
    return _amount(m.group(1), liang=_is_count(m, m.group(1)))


_Pass = tuple[re.Pattern[str], Callable[[re.Match[str]], str] | str]

_DIGIT_STRING_PASSES: tuple[_Pass, ...] = (
    (_LONG_DIGITS, _keyed),
    (_MOBILE, _phone_groups),
    (_LANDLINE, _phone_groups),
    (_MARKED_DAY, _each_digit),
    (_GENERATION, _each_digit),
    (_ROOM, _each_digit),
    (_ROAD, _keyed),
    (_CODED, _keyed),
    (_BARE_DIGITS, _bare_digits),
)
_PASSES: tuple[_Pass, ...] = (
    (_DATE, _date),
    (_TIMES, _times),
    (_RATIO, _ratio),
    (_TIMES_SIGN, "乘"),
    (_PER, r"\1每"),
    (_DASH_RANGE, "到"),
    (_PERCENT, _percent),
    (_TEMPERATURE, _temperature),
    (_MONEY, _money),
    (_UNITS, _units),
    (_YEARS, _years),
    (_YUAN, _yuan),
    (_FRACTION, _fraction),
    (_RANGE, _range),
    (_NUMBER, _number),
)


def read_digit_strings(text: str) -> str:
    """Read only the numbers said digit by digit: phones, service numbers, codes, roads, rooms."""
    if not any(c.isdigit() for c in text):
        return text
    text = text.translate(_FULL_WIDTH_DIGITS)
    for pattern, read in _DIGIT_STRING_PASSES:
        text = pattern.sub(read, text)
    return text


def spoken_numbers(text: str) -> str:
    """Rewrite every number in `text` the way it is read aloud; other text is left as it is."""
    text = read_digit_strings(text)
    if not any(c.isdigit() for c in text):
        return text
    for pattern, read in _PASSES:
        text = pattern.sub(read, text)
    return text
