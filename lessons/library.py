"""The lesson library: Markdown files with a small front matter, checked line by line."""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

PROFILE_NAMES: tuple[str, ...] = ("普通话", "湘", "东北", "陕西", "粤", "台")
MAX_BODY_CHARS = 3000
REQUIRED_KEYS: dict[str, str] = {
    "title": "标题",
    "speaker": "主讲人",
    "date": "日期",
    "tags": "标签",
    "summary": "简介",
}
OPTIONAL_KEYS: dict[str, str] = {"speech_profile": "方言风格"}
ALL_KEYS: dict[str, str] = REQUIRED_KEYS | OPTIONAL_KEYS

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
# A full-width colon is accepted because Chinese input methods type it by default.
_KEY_VALUE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*[:：]\s*(.*)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TAG_SEPARATORS = re.compile(r"[,，、]")
_NEWLINE = re.compile(r"\r\n|\r|\n")

_HEADING = re.compile(r"#{1,6}(?:\s+|(?=[^#\s]))(.*?)(?:\s+#+)?")
_BULLET = re.compile(r"[-*+]\s+(.*)")
_ORDERED = re.compile(r"(\d{1,3})(?:[.)]\s+|、\s*)(.+)")
_RULE = re.compile(r"(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,}")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_INLINE_MARKUP = re.compile(r"\*\*|__|~~|[*`]")
_ASCII_WORD = re.compile(r"[A-Za-z0-9]")
# Spaces that Markdown needs after **bold。** only show as gaps in Chinese chat text.
_CJK_GAP = re.compile(r"(?<=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef])[ \t]+(?=[\u3400-\u9fff])")

_Reporter = Callable[[int, str], None]


@dataclass(frozen=True)
class Lesson:
    """One micro party lesson (微党课) as read from its file."""

    slug: str
    title: str
    speaker: str
    date: datetime.date
    tags: tuple[str, ...]
    summary: str
    body: str
    speech_profile: str | None
    path: Path
    source: str = field(default="", repr=False)

    @property
    def content_hash(self) -> str:
        """SHA-256 hex of the whole file (front matter and body); changes when the file does."""
        # A lesson built in code has no file text; its rendering stands in for it.
        return hashlib.sha256((self.source or self.to_text()).encode("utf-8")).hexdigest()

    def to_text(self) -> str:
        """The lesson as file text, front matter and body, in the form `parse_lesson` reads."""
        header = [
            f"title: {self.title}",
            f"speaker: {self.speaker}",
            f"date: {self.date.isoformat()}",
            f"tags: [{', '.join(self.tags)}]",
            f"summary: {self.summary}",
        ]
        if self.speech_profile:
            header.append(f"speech_profile: {self.speech_profile}")
        return "\n".join(["---", *header, "---", self.body, ""])

    @property
    def plain_text(self) -> str:
        """The body as plain chat text, without Markdown markup, paragraphs kept."""
        return markdown_to_plain(self.body)


@dataclass(frozen=True)
class LessonProblem:
    """Something wrong in a lesson file, at a 1-based line, described in Chinese."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class LoadResult:
    """The lessons that loaded (by date, then slug) and the problems of those that did not."""

    lessons: list[Lesson]
    problems: list[LessonProblem]

    def get(self, slug: str) -> Lesson | None:
        """The lesson with this slug, or None."""
        return next((lesson for lesson in self.lessons if lesson.slug == slug), None)


def load_library(folder: Path) -> LoadResult:
    """Load every *.md file in `folder`; a broken file is reported and skipped, the rest load."""
    if not folder.is_dir():
        return LoadResult([], [LessonProblem(folder, 1, "找不到课程文件夹，请检查路径")])
    lessons: list[Lesson] = []
    problems: list[LessonProblem] = []
    for path in sorted(folder.glob("*.md")):
        # Hidden files are editor and sync leftovers, not lessons.
        if path.name.startswith(".") or not path.is_file():
            continue
        lesson, found = read_lesson(path)
        problems.extend(found)
        if lesson is not None:
            lessons.append(lesson)
    lessons.sort(key=lambda lesson: (lesson.date, lesson.slug))
    log.debug("loaded %d lessons from %s, %d problems", len(lessons), folder, len(problems))
    return LoadResult(lessons, problems)


def read_lesson(path: Path) -> tuple[Lesson | None, list[LessonProblem]]:
    """Read one lesson file from disk and parse it; unreadable or non-UTF-8 files are problems."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [LessonProblem(path, 1, f"文件读不出来：{exc.strerror or exc}")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = data.count(b"\n", 0, exc.start) + 1
        message = (
            f"文件不是有效的 UTF-8 编码（第 {bad_line} 行有认不出的字符），"
            "可能是 GBK 等编码，请用 UTF-8 另存"
        )
        return None, sorted([LessonProblem(path, 1, message), *_check_slug(path)], key=_by_line)
    return parse_lesson(path, text)


def parse_lesson(path: Path, text: str) -> tuple[Lesson | None, list[LessonProblem]]:
    """Parse a lesson's text; return the lesson (None if anything is wrong) and every problem."""
    problems = _check_slug(path)

    def report(line: int, message: str) -> None:
        problems.append(LessonProblem(path, line, message))

    # Line endings and a BOM are editor accidents, not content: they must not change the hash.
    normalized = _NEWLINE.sub("\n", text.removeprefix("\ufeff"))
    lines = [line.rstrip() for line in normalized.split("\n")]
    if lines[0].strip() != "---":
        report(1, "第一行应该是 ---（前言开始的标记），没有找到")
        return None, sorted(problems, key=_by_line)
    close = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if close is None:
        header_end = _guess_header_end(lines)
        if header_end < len(lines):
            report(header_end + 1, "前言没有结束的 ---：应在这一行之前加一行 ---")
        else:
            report(len(lines), "前言没有结束的 ---：到文件末尾也没有找到")
    else:
        header_end = close
    values = _parse_header(lines, header_end, report)

    for key, label in REQUIRED_KEYS.items():
        if key not in values:
            report(min(header_end + 1, len(lines)), f"缺少必填项 {key}（{label}）")
        elif not values[key][1]:
            report(values[key][0], f"{key}（{label}）不能是空的")
    date = _parse_date(values, report)
    tags = _parse_tags(values, report)
    profile = _parse_profile(values, report)

    body = ""
    if close is not None:
        body = _check_body(lines[close + 1 :], close + 2, report)
    if problems:
        return None, sorted(problems, key=_by_line)
    assert date is not None  # a missing or bad date was reported above
    lesson = Lesson(
        slug=path.stem,
        title=values["title"][1],
        speaker=values["speaker"][1],
        date=date,
        tags=tags,
        summary=values["summary"][1],
        body=body,
        speech_profile=profile,
        path=path,
        source=normalized,
    )
    return lesson, []


def markdown_to_plain(body: str) -> str:
    """Markdown as plain chat text: no markup, list items as "· ", paragraphs kept."""
    paragraphs: list[list[str]] = []
    current: list[str] = []
    joinable = False
    for raw in body.split("\n"):
        line = raw.strip()
        while line.startswith(">"):
            line = line[1:].lstrip()
        if not line or _RULE.fullmatch(line):
            if current:
                paragraphs.append(current)
            current, joinable = [], False
            continue
        if heading := _HEADING.fullmatch(line):
            current.append(_plain_inline(heading.group(1)))
            joinable = False
        elif bullet := _BULLET.fullmatch(line):
            current.append("· " + _plain_inline(bullet.group(1)))
            joinable = True
        elif ordered := _ORDERED.fullmatch(line):
            current.append(f"{ordered.group(1)}、{_plain_inline(ordered.group(2))}")
            joinable = True
        elif joinable and current:
            current[-1] = _join(current[-1], _plain_inline(line))
        else:
            current.append(_plain_inline(line))
            joinable = True
    if current:
        paragraphs.append(current)
    return "\n\n".join("\n".join(p for p in paragraph if p) for paragraph in paragraphs)


def _plain_inline(text: str) -> str:
    return _CJK_GAP.sub("", _INLINE_MARKUP.sub("", _LINK.sub(r"\1", text))).strip()


def _join(left: str, right: str) -> str:
    # Chinese lines join without a space; only two Latin words need one between them.
    if left and right and _ASCII_WORD.match(left[-1]) and _ASCII_WORD.match(right[0]):
        return f"{left} {right}"
    return left + right


def _by_line(problem: LessonProblem) -> int:
    return problem.line


def _check_slug(path: Path) -> list[LessonProblem]:
    if _SLUG.fullmatch(path.stem):
        return []
    message = (
        f"文件名「{path.name}」不合规：课程编号（文件名去掉 .md）"
        "只能用小写英文字母、数字和连字符 -，并以字母或数字开头"
    )
    return [LessonProblem(path, 1, message)]


def _guess_header_end(lines: list[str]) -> int:
    """Index of the first line that cannot belong to the front matter (where --- was forgotten)."""
    for index in range(1, len(lines)):
        line = lines[index].strip()
        if line and not _KEY_VALUE.fullmatch(line):
            return index
    return len(lines)


def _parse_header(lines: list[str], end: int, report: _Reporter) -> dict[str, tuple[int, str]]:
    """Read `key: value` lines 2..end into {key: (line number, value)}."""
    values: dict[str, tuple[int, str]] = {}
    for index in range(1, end):
        number, line = index + 1, lines[index].strip()
        if not line:
            continue
        match = _KEY_VALUE.fullmatch(line)
        if match is None:
            report(number, f"这一行不是「键: 值」的格式（例如 title: 防范电信诈骗）：{line[:30]}")
            continue
        key, value = match.group(1), match.group(2).strip()
        if key not in ALL_KEYS:
            known = "、".join(ALL_KEYS)
            report(number, f"未知的项 {key}（可用的项：{known}）")
            continue
        if key in values:
            report(number, f"重复的项 {key}（第 {values[key][0]} 行已经写过）")
            continue
        if value[:1] in ("'", '"'):
            if len(value) < 2 or value[-1] != value[0]:
                report(number, f"{key} 的值引号没有配对")
                continue
            value = value[1:-1].strip()
        values[key] = (number, value)
    return values


def _parse_date(values: dict[str, tuple[int, str]], report: _Reporter) -> datetime.date | None:
    if "date" not in values or not values["date"][1]:
        return None
    number, value = values["date"]
    if not _DATE.fullmatch(value):
        report(number, f"日期格式不对：「{value}」，应写成 年-月-日，例如 2026-03-15")
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        report(number, f"日期不对：「{value}」这一天不存在，请检查月份和日子")
        return None


def _parse_tags(values: dict[str, tuple[int, str]], report: _Reporter) -> tuple[str, ...]:
    if "tags" not in values or not values["tags"][1]:
        return ()
    number, value = values["tags"]
    if value.startswith("[") != value.endswith("]"):
        report(number, "标签的方括号没有配对，应写成 [标签一, 标签二]")
        return ()
    value = value.removeprefix("[").removesuffix("]")
    tags = tuple(
        tag for part in _TAG_SEPARATORS.split(value) if (tag := part.strip().strip("'\""))
    )
    if not tags:
        report(number, "tags（标签）至少要写一个")
    return tags


def _parse_profile(values: dict[str, tuple[int, str]], report: _Reporter) -> str | None:
    if "speech_profile" not in values or not values["speech_profile"][1]:
        return None
    number, value = values["speech_profile"]
    if value not in PROFILE_NAMES:
        report(number, f"未知的方言风格「{value}」，可选：{'、'.join(PROFILE_NAMES)}")
        return None
    return value


def _check_body(body_lines: list[str], first_number: int, report: _Reporter) -> str:
    """Return the body without surrounding blank lines; report it empty or too long."""
    start = next((i for i, line in enumerate(body_lines) if line.strip()), None)
    if start is None:
        report(first_number - 1, "正文是空的：结束的 --- 下面要写课程内容")
        return ""
    end = max(i for i, line in enumerate(body_lines) if line.strip()) + 1
    body = "\n".join(body_lines[start:end])
    if len(body) > MAX_BODY_CHARS:
        # The line holding the first character past the limit, so the writer knows where to cut.
        over = body.count("\n", 0, MAX_BODY_CHARS)
        report(
            first_number + start + over,
            f"正文太长：共 {len(body)} 个字符，最多 {MAX_BODY_CHARS} 个，从这一行起超出了",
        )
    return body
