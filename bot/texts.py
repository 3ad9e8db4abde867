"""User-facing Chinese text, kept in one place so it can be reviewed together."""

from __future__ import annotations

# --- the bot itself ---------------------------------------------------------------------------
BOT_NAME = "夜话小助手"

# --- the built-in web group chat: pages ---------------------------------------------------------
WEB_SITE_NAME = "夜话"
WEB_TAGLINE = "夜话 · 村里的群聊：听微党课、提建议"
WEB_ROOMS_HEADING = "选一个群进去"
WEB_NO_ROOMS = "现在还没有群。请联系村里的管理员。"
WEB_LAST_MESSAGE = "最新消息："
WEB_NO_MESSAGES = "还没有人说话"
WEB_BACK = "‹ 群列表"
WEB_NOT_FOUND_TITLE = "找不到这个群"
WEB_NOT_FOUND_TEXT = "这个群不存在，或者已经不用了。请回到群列表重新选择。"
WEB_NOT_FOUND_LINK = "回到群列表"
WEB_TODAY = "今天"
WEB_YESTERDAY = "昨天"
WEB_DATE_FORMAT = "{month}月{day}日"

# --- the built-in web group chat: the chat page (passed to the browser script as JSON) ----------
WEB_NAME_PROMPT = "第一次来，请写上您的名字，大家就知道是谁在说话。"
WEB_NAME_LABEL = "您的名字（1到20个字）"
WEB_NAME_PLACEHOLDER = "比如：张大爷"
WEB_JOIN = "进群"
WEB_RENAME = "改名字"
WEB_MESSAGE_LABEL = "要说的话"
WEB_MESSAGE_PLACEHOLDER = "在这里写要说的话…"
WEB_SEND = "发送"
WEB_EARLIER = "更早的消息"
WEB_LOADING = "正在加载…"
WEB_NO_EARLIER = "没有更早的消息了"
WEB_NEW_MESSAGES = "有新消息 ↓"
WEB_CONNECTING = "正在连接…"
WEB_RECONNECTING = "连接断开，正在重连…"
WEB_NOT_CONNECTED = "还没连上，请稍等一下再发送。"
WEB_LOAD_FAILED = "加载失败，请稍后再试。"
WEB_PLAY = "播放"
WEB_PAUSE = "暂停"
WEB_LESSON = "微党课"
WEB_ME = "我"

# --- the built-in web group chat: errors ------------------------------------------------------
WEB_ERROR_NO_HELLO = "请先写上名字，再发言。"
WEB_ERROR_EMPTY = "消息是空的，请写点内容再发送。"
WEB_ERROR_TOO_LONG = "消息太长了，最多 {limit} 个字，请分几次发。"
WEB_ERROR_NAME = "名字要写 1 到 20 个字。"
WEB_ERROR_USER_ID = "身份信息不对，请刷新页面再试。"
WEB_ERROR_FORMAT = "消息格式不对，请刷新页面再试。"
WEB_ERROR_BUSY = "刚才没发出去，请稍等一下再试。"
WEB_ERROR_PARAM = "参数 {name} 不对：要一个 {low} 到 {high} 之间的整数。"

# --- lessons in the chat ----------------------------------------------------------------------
LESSON_POST = "【微党课】{title}\n主讲：{speaker}\n\n{body}"
LESSON_CLIP_CAPTION = "{title}（第{n}段，共{of}段）"
VOICE_WILL_FOLLOW = "（语音稍后发到群里，先看文字。）"

# --- first start ------------------------------------------------------------------------------
DEMO_GROUP_NAME = "示范屋场"
DEMO_NOTICE = "第一次启动：已建好「{group}」群，示范课《{title}》{time} 左右送到，点进去听一听。"

# --- command line -----------------------------------------------------------------------------
CLI_STARTED = "夜话已启动：用手机或电脑打开 http://{host}:{port}  （按 Ctrl+C 停止）"
