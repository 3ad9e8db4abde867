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
WEB_MESSAGE_PLACEHOLDER = "写要说的话"
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
WEB_ERROR_USER_ID = "认不出是谁在发，请刷新页面再试。"
WEB_ERROR_FORMAT = "这条没发成，可能页面是旧的。请刷新页面再发一次。"
WEB_ERROR_BUSY = "刚才没发出去，请稍等一下再试。"
WEB_ERROR_PARAM = "没能加载消息：网址里“{name}=”后面的数字不对。请回到群列表，重新点进群里。"

# --- lessons in the chat ----------------------------------------------------------------------
LESSON_POST = "【微党课】{title}\n主讲：{speaker}\n\n{body}"
LESSON_CLIP_CAPTION = "{title}（第{n}段，共{of}段）"
VOICE_WILL_FOLLOW = "（语音稍后发到群里，先看文字。）"

# --- first start ------------------------------------------------------------------------------
DEMO_GROUP_NAME = "示范屋场"
DEMO_NOTICE = "第一次启动：已建好「{group}」群，示范课《{title}》{time} 左右送到，点进去听一听。"

# --- command line -----------------------------------------------------------------------------
CLI_STARTED = "夜话已启动：用手机或电脑打开 http://{host}:{port}  （按 Ctrl+C 停止）"

# --- suggestions and points (建议、积分) -------------------------------------------------------
SUGGESTION_STATUS_LABELS = {
    "new": "待处理",
    "adopted": "已采纳",
    "in_progress": "办理中",
    "done": "已办结",
    "declined": "暂不采纳",
}
SUGGESTION_CATEGORY_LABELS = {
    "roads": "道路交通",
    "water": "水利用水",
    "waste": "垃圾环境",
    "safety": "治安安全",
    "medical_insurance": "医保医疗",
    "land": "土地山林",
    "housing": "宅基地住房",
    "agriculture": "农业生产",
    "elderly": "养老助老",
    "education": "教育",
    "other": "其他",
}
SUGGESTION_EMPTY = "建议是空的，请说说是什么事。"
SUGGESTION_TOO_LONG = "建议太长了，最多 {limit} 个字。请说简短些，或者分几条发。"
SUGGESTION_REPLY_TOO_LONG = "回复太长了，最多 {limit} 个字，请说简短些。"
SUGGESTION_NOT_FOUND = "没有第 {number} 号建议，请看看号码对不对。"
SUGGESTION_ALREADY = "第 {number} 号建议已经是“{status}”了。"
SUGGESTION_FINISHED = "第 {number} 号建议已经办结了，不能再改成“{status}”。"
SUGGESTION_ADOPT_FIRST = "第 {number} 号建议现在是“{current}”，要先采纳，才能改成“{status}”。"
SUGGESTION_BAD_STEP = "第 {number} 号建议现在是“{current}”，不能改成“{status}”。"
SUGGESTION_NEEDS_RESULT = "办结要写上办理结果，让提建议的人知道办得怎么样。"
SUGGESTION_NEEDS_REASON = "暂不采纳要写上理由，让提建议的人知道为什么。"
SUGGESTION_UNKNOWN_CATEGORY = "没有“{name}”这个分类。可以选：{choices}。"

# --- the web chat: voice messages, 听完了, quoted replies (sent to the browser as WEB_*) -------
WEB_VOICE_HOLD = "按住说话"
WEB_VOICE_HOLD_LABEL = "按住说话，松开发送。按不住的话，点一下开始，再点一下发送。"
WEB_VOICE_STARTING = "正在打开麦克风…"
WEB_VOICE_HOLD_HINT = "松开就发送，手指移开就取消"
WEB_VOICE_RELEASE_SEND = "松开发送"
WEB_VOICE_RELEASE_CANCEL = "松开取消"
WEB_VOICE_CANCEL_HINT = "松开手指，取消发送"
WEB_VOICE_TAP_HINT = "正在录音，说完点“发送”"
WEB_VOICE_TIME_LEFT = "还能说 {seconds} 秒"
WEB_VOICE_CANCEL = "取消"
WEB_VOICE_CANCELLED = "已取消，这段没有发出去。"
WEB_VOICE_SENDING = "正在发送语音…"
WEB_VOICE_FAILED = "语音没发出去，请再试一次。"
WEB_VOICE_NO_MIC = "没有拿到麦克风权限，请在浏览器设置里允许使用麦克风。"
WEB_VOICE_MIC_READY = "麦克风可以用了，请再按住按钮说话。"
WEB_VOICE_UNSUPPORTED = "这个浏览器不能录音，请打字，或者换个浏览器试试。"
WEB_VOICE_NEEDS_HTTPS = ("这个网址不能录音，请先打字说，"
                         "并告诉管理员：录音要用地址栏里带小锁的网址。")
WEB_VOICE_TOO_SHORT = "说话时间太短了，没听清。请按住按钮，说完再松开。"
WEB_VOICE_TOO_LONG = "一段语音最长 2 分钟，请分几次说。"
WEB_VOICE_TOO_BIG = "这段语音太大了，请分几次说。"
WEB_VOICE_UNREADABLE = "这段语音打不开，请再录一遍。"
WEB_QUOTE_VOICE = "[语音]"
WEB_LISTENED = "听完了"  # sent as the member's own message, as people do in WeChat groups
WEB_LISTENED_DONE = "已听"

# --- chat commands, status notices, points in the chat (命令、通知、积分) ------------------------
CMD_ROLE_LABELS = {"member": "群成员", "facilitator": "话事佬", "secretary": "书记或文书",
                   "admin": "管理员"}
CMD_UNKNOWN = "没有“/{name}”这个命令。发“帮助”两个字，看看能用哪些。"
CMD_REFUSED = ("对不起，这个只有{who}才能用。您有想法，先说“建议”两个字，再说事，"
               "比如：建议 村口路灯坏了")
CMD_FAILED = "刚才出了点小毛病，没办成，请过一会儿再试。"
CMD_NO_SUCH_SUGGESTION = "没有第 {number} 号建议，请看看号码对不对。"

CMD_SUGGESTION_RAISED = ("收到，您的建议记下了，是第 {number} 号。村里看过后会在群里回您，"
                         "想问进展就发“我的建议”。")
CMD_SUGGESTION_RAISED_VOICE = ("收到您的语音建议，记下了，是第 {number} 号。"
                               "村里听过后会在群里回您，想问进展就发“我的建议”。")
CMD_SUGGESTION_RAISED_FOR = "收到，已替{name}记下，是第 {number} 号建议。村里看过后会在群里回复。"
CMD_VOICE_SUGGESTION = "语音建议"
CMD_USAGE_SUGGEST = "提建议，先说“建议”两个字，再说事，比如：建议 村口路灯坏了"
CMD_USAGE_PROXY = "替别人提建议请这样发：/代提 张大爷 修一下水渠"
CMD_USAGE_ADOPT = "采纳请这样发：/采纳 12 已列入下月计划（12 是建议的号码）"
CMD_USAGE_PROGRESS = "开始办理请这样发：/办理 12（12 是建议的号码，后面可以写几句话）"
CMD_USAGE_DONE = "办结请这样发：/办结 12 路灯已经修好（12 是建议的号码）"
CMD_USAGE_DECLINE = "暂不采纳请这样发：/暂不采纳 12 理由（12 是建议的号码）"

CMD_MINE_NONE = "您还没有提过建议。想到什么，先说“建议”两个字，再说事，比如：建议 村口路灯坏了"
CMD_MINE_HEADING = "您提过 {count} 条建议："
CMD_MINE_LINE = "第 {number} 号【{status}】{text}"
CMD_MINE_REPLY = "    回复：{reply}"
CMD_MINE_MORE = "（只列出最近 {limit} 条）"

CMD_STATUS_NOTICE = "第 {number} 号建议（{author}：{quote}）{status}。"
CMD_STATUS_SAID = {"new": "重新等待处理", "adopted": "已采纳", "in_progress": "正在办理",
                   "done": "已办结", "declined": "暂不采纳"}
CMD_STATUS_NOTICE_REPLY = "{label}：{reply}"
CMD_REPLY_LABEL = "回复"
CMD_REPLY_LABELS = {"done": "办理结果", "declined": "理由"}

CMD_LEADERBOARD_HEADING = "【{month}月积分榜】谢谢大家这个月的参与！"
CMD_LEADERBOARD_LINE = "{rank}. {name}  {points} 分"
CMD_LEADERBOARD_FOOTER = "听完微党课回一句“已听”、提建议、建议被采纳，都能加分。"
CMD_LEADERBOARD_EMPTY = "{month}月还没有人得积分。听完微党课回一句“已听”，或者提个建议，都能加分。"

CMD_TALK_NEXT = "下一次夜话："
CMD_TALK_OPEN = "夜话正在进行："
CMD_TALK_WHEN = "时间：{when}"
CMD_TALK_WHERE = "地点：{place}"
CMD_TALK_TOPIC = "话题：{topic}"
CMD_TALK_HOST = "主持：{host}"
CMD_TALK_HOW_TO_SUGGEST = "有想法，先说“建议”两个字，再说事，比如：建议 村口路灯坏了"
CMD_TALK_NONE = ("最近还没有安排夜话。有想法也可以随时提：先说“建议”两个字，再说事，"
                 "比如：建议 村口路灯坏了")
CMD_TALK_ALREADY_OPEN = "夜话已经开始了。"
CMD_TALK_NOTHING_TO_OPEN = "现在没有安排好的夜话可以开始，请先安排一次。"
CMD_TALK_NOTHING_TO_CLOSE = "现在没有正在进行的夜话。"

CMD_LESSONS_NONE = "这个群还没有发过微党课。"
CMD_LESSONS_HEADING = "最近的微党课："
CMD_LESSONS_LINE = "{n}. {month}月{day}日《{title}》"
CMD_LESSONS_FOOTER = "想再听最新的一课，发“/重听”。"
CMD_REPLAY_GONE = "这一课的内容找不到了，请联系村里的管理员。"
CMD_REPLAY_NO_VOICE = "（这次语音没出来，先看文字。）"

CMD_POINTS_NONE = "{name}，您还没有积分。听完微党课回一句“已听”，或者提个建议，都能加分。"
CMD_POINTS_MINE = "{name}，您一共有 {points} 分，在群里排第 {rank} 名（共 {people} 人有积分）。"
CMD_POINTS_MONTH = "这个月得了 {points} 分，排第 {rank} 名。"

CMD_HELP_HEADING = "可以这样跟我说："
CMD_HELP_RAISE = "提建议 —— 先说“建议”两个字，再说事，比如：建议 村口路灯坏了"
CMD_HELP_LISTENED = "已听 —— 听完微党课回一句，加积分"
CMD_HELP_LINE = "/{name} —— {summary}"
CMD_HELP_FOOTER = "积分、我的建议、重听、帮助这几样，不打“/”，直接发这几个字也行。"
CMD_HELP_SUGGEST = ""  # 「建议 内容」 already heads the help
CMD_HELP_PROXY = "替别人提建议：/代提 姓名 内容"
CMD_HELP_ADOPT = "采纳建议：/采纳 号码 回复"
CMD_HELP_PROGRESS = "开始办理：/办理 号码"
CMD_HELP_DONE = "办结：/办结 号码 办理结果"
CMD_HELP_DECLINE = "暂不采纳：/暂不采纳 号码 理由"
CMD_HELP_MINE = "看看我提的建议办得怎么样"
CMD_HELP_TALK = "下一次夜话（屋场会）的时间、地点、话题"
CMD_HELP_OPEN = "现在开始夜话"
CMD_HELP_CLOSE = "结束夜话，列出收到的建议"
CMD_HELP_REPLAY = "再听一遍最新的微党课"
CMD_HELP_LESSONS = "最近发过的微党课"
CMD_HELP_POINTS = "看看我的积分和排名"
CMD_HELP_HELP = "看这个说明"

# --- night talks (夜话): announcements, reminders, opening, summary; CLI -------------------------
NIGHT_WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
NIGHT_DATE = "{month}月{day}日（{weekday}）"
NIGHT_DATE_YEAR = "{year}年{month}月{day}日（{weekday}）"
# (first hour, word): 19:30 reads 晚上7点半.
NIGHT_PERIODS = ((0, "夜里"), (1, "凌晨"), (5, "早上"), (9, "上午"), (12, "中午"), (13, "下午"),
                 (18, "晚上"))
NIGHT_CLOCK = "{period}{hour}点"
NIGHT_CLOCK_HALF = "{period}{hour}点半"
NIGHT_CLOCK_MINUTES = "{period}{hour}点{minute}分"
NIGHT_PLACE = "在{place}，"
NIGHT_HOST = "主持：{host}。"
NIGHT_ANNOUNCE = ("【夜话预告】{date}{time}，{place}聊聊“{topic}”。{host}"
                  "大家有想法，到时候搬条板凳来坐坐，也可以在群里提。")
NIGHT_REMIND_EVE = ("【夜话提醒】明天{time}，{place}聊聊“{topic}”。{host}"
                    "有空搬条板凳来坐坐，有想法也可以先在群里提。")
NIGHT_REMIND_SOON = ("【夜话提醒】还有{left}，夜话就开始了：{time}，{place}聊聊“{topic}”。"
                     "来不了的，在群里提建议也一样。")
NIGHT_HALF_HOUR = "半小时"
NIGHT_MINUTES = "{n}分钟"
NIGHT_OPEN = ("【夜话开始】“{topic}”夜话现在开始。{host}\n"
              "有什么想法、难处，都可以说：先说“建议”两个字，再说您的想法，或者直接回复这条消息，"
              "语音也行。\n"
              "每条建议都有编号，办得怎么样，会在群里告诉大家。{end}结束。")
NIGHT_CLOSE_HEAD = "【夜话结束】“{topic}”夜话结束了，谢谢大家！本次夜话共收到 {count} 条建议："
NIGHT_CLOSE_ITEM = "{n}. {text}（{author}，第{number}号）"
NIGHT_CLOSE_TAIL = "村里会一条一条研究，办得怎么样，会在群里告诉大家。"
NIGHT_CLOSE_NONE = ("【夜话结束】“{topic}”夜话结束了，谢谢大家来坐坐！这次没有收到建议。"
                    "平时有想法，随时在群里提，先说“建议”两个字就行。")
NIGHT_VOICE_ONLY = "[语音建议]"
NIGHT_VOICE_WITH_TEXT = "[语音] {text}"
NIGHT_CANCEL = "【夜话取消】原定{date}{time}的夜话“{topic}”不开了。改了时间，再通知大家。"
NIGHT_STATUS_LABELS = {"scheduled": "待开始", "open": "进行中", "closed": "已结束",
                       "cancelled": "已取消", "draft": "待确认"}

NIGHT_ERR_NO_TALK = "没有第 {id} 号夜话。"
NIGHT_ERR_NO_TOPIC = "请写上夜话要聊的话题。"
NIGHT_ERR_TOPIC_LONG = "话题太长了，最多 {limit} 个字。"
NIGHT_ERR_PAST = "开始时间 {when} 已经过去了，请重新定时间。"
NIGHT_ERR_END = "结束时间要在开始时间之后。"
NIGHT_ERR_LENGTH = "夜话最长开 {hours} 个小时，请改短一点。"
NIGHT_ERR_OVERLAP = "这个群在这段时间已经安排了第 {id} 号夜话（{when}，“{topic}”）。"
NIGHT_ERR_CANCELLED = "第 {id} 号夜话已经取消了。"
NIGHT_ERR_CLOSED = "第 {id} 号夜话已经结束了。"
NIGHT_ERR_ENDED = "第 {id} 号夜话的结束时间已经过了，不能再开始。"
NIGHT_ERR_BUSY = "现在已经有一场夜话在开（第 {id} 号，“{topic}”），请先结束它。"

CLI_NIGHT_BAD_TIME = "时间「{text}」看不懂，请写成 2026-12-05 19:30 或 19:30。"
CLI_NIGHT_BAD_HOURS = "时长「{hours}」不对，要写 0.5 到 12 之间的小时数。"
CLI_NIGHT_NO_GROUP = "找不到群「{key}」。用 yehua groups list 查看有哪些群。"
CLI_NIGHT_MANY_GROUPS = "叫「{key}」的群不止一个，请用群的编号。"
CLI_NIGHT_ADDED = ("已安排夜话 #{id}：{when}，{group}，“{topic}”。"
                   "机器人在运行时会在群里发预告和提醒。")
CLI_NIGHT_OPENED = "夜话 #{id} 已开始。开场白由运行中的机器人在一分钟内发到群里。"
CLI_NIGHT_CLOSED = "夜话 #{id} 已结束。建议总结由运行中的机器人在一分钟内发到群里。"
CLI_NIGHT_CANCELLED = "夜话 #{id} 已取消。"
CLI_NIGHT_ALREADY = "夜话 #{id} 本来就是“{status}”，没有改动。"
CLI_NIGHT_LIST_TITLE = "夜话"
CLI_NIGHT_LIST_COLUMNS = ("编号", "群", "时间", "话题", "地点", "主持", "状态")
CLI_NIGHT_NONE = "还没有安排夜话。用 yehua nighttalk add 安排一场。"
CLI_ROLE_LABELS = {"member": "普通成员", "facilitator": "话事佬", "secretary": "书记或文书",
                   "admin": "管理员"}
CLI_ROLE_BAD = ("角色「{role}」不认识，可以写：facilitator（话事佬）、"
                "secretary（书记或文书）、admin（管理员）。")
CLI_ROLE_GRANTED = "已把 {name}（{user}）在「{group}」设为{role}。"
CLI_ROLE_REVOKED = "已取消 {name}（{user}）在「{group}」的{role}身份，现在是普通成员。"
CLI_ROLE_NO_MEMBER = "「{group}」里没有用户 {user}。"
CLI_ROLE_ALREADY_MEMBER = "{name}（{user}）在「{group}」本来就是普通成员。"
CLI_ROLE_LIST_TITLE = "「{group}」的角色"
CLI_ROLE_LIST_COLUMNS = ("用户", "名字", "角色")
CLI_ROLE_NONE = "「{group}」还没有设角色，大家都是普通成员。"

# --- reports (建议办理情况报表: Excel, Word, CSV) -----------------------------------------------
REPORT_TITLE = "建议办理情况汇总表"
REPORT_SHEET_SUMMARY = "汇总"
REPORT_SHEET_DETAIL = "明细"
REPORT_DATE = "{year}年{month}月{day}日"
REPORT_PERIOD = "统计时间：{start}至{end}"
REPORT_SCOPE = "统计范围：{scope}"
REPORT_SCOPE_ALL = "全部群"
REPORT_SCOPE_GROUP = "群：{name}"
REPORT_SCOPE_HAMLET = "屋场：{hamlet}"
REPORT_SCOPE_TOPIC = "类别：{topic}"
REPORT_TOTAL_HEADING = "总体情况"
REPORT_TOTAL_ROW = "合计"
REPORT_FIGURE_HEADERS = ("收集", "采纳", "办理中", "已办结", "暂不采纳", "待处理",
                         "采纳率", "办结率")
REPORT_LESSON_HEADERS = ("推送微党课", "收听人次")
REPORT_BY = {"hamlet": "按屋场", "topic": "按类别", "night_talk": "按夜话"}
REPORT_BY_COLUMN = {"hamlet": "屋场", "topic": "类别", "night_talk": "夜话"}
REPORT_NO_HAMLET = "（未填屋场）"
REPORT_NOT_IN_TALK = "平时提出（不在夜话中）"
REPORT_TALK_LABEL = "{topic}（{month}月{day}日{place}）"
REPORT_NO_RATE = "—"
REPORT_CHART_TITLE = "各屋场建议办理情况"
REPORT_CHART_AXIS = "条数"
REPORT_DETAIL_HEADERS = ("编号", "日期", "夜话", "屋场", "提出人", "代提人", "内容", "类别",
                         "状态", "经办人", "答复", "采纳时间", "办理时间", "办结时间",
                         "暂不采纳时间", "期限", "用时（天）", "逾期", "语音")
REPORT_DOCX_HEADERS = ("编号", "提出人", "屋场", "建议内容", "状态", "提出日期", "承办人", "期限",
                       "办结日期", "用时(天)", "答复")
REPORT_RAISED_BY = "{author}（{by}代提）"
REPORT_SUMMARY_NONE = "本期没有收集到群众建议。"
REPORT_SUMMARY = ("本期共收集群众建议{collected}条，采纳{adopted}条，采纳率{adoption}；"
                  "已办结{done}条，办结率{completion}")
REPORT_SUMMARY_REST = "，其余{rest}条正在办理"
REPORT_SUMMARY_TAIL = "；暂不采纳{declined}条，待处理{new}条。"
REPORT_SUMMARY_TOPICS = "从类别看，{items}。"
REPORT_SUMMARY_TOPIC = "{topic}{count}条"
REPORT_SUMMARY_LESSONS = "本期推送微党课{lessons}次，群众收听{listeners}人次。"
REPORT_SIGNATURE = "填报单位（盖章）：　　　　　　　　填报人：　　　　　　　　填报日期：{date}"
REPORT_FILE_NAME = "建议办理情况_{start}_{end}.{ext}"
REPORT_BAD_DATE = "日期「{text}」看不懂，请写成 2026-01-01 这样。"
REPORT_BAD_PERIOD = "开始日期 {start} 晚于结束日期 {end}，请检查 --from 和 --to。"
REPORT_UNKNOWN_GROUP = "找不到群「{key}」。用 yehua groups list 查看有哪些群。"
REPORT_MANY_GROUPS = "叫「{key}」的群不止一个，请用群的编号。"
REPORT_UNKNOWN_HAMLET = "没有叫「{hamlet}」的屋场。现有的屋场：{choices}。"
REPORT_UNKNOWN_FORMAT = "不支持「{format}」格式，可以选：xlsx、docx、csv。"
REPORT_CANNOT_WRITE = "无法写入文件「{path}」：{error}"
REPORT_DOCX_TOO_MANY = ("这段时间有 {count:,} 条建议，Word 汇总表最多放 {limit:,} 条，"
                        "再多打开很慢，也不好打印。请把时间段改短一些，或者只选一个群、"
                        "一个屋场，也可以导出 Excel（xlsx）。")
REPORT_WRITING = "正在导出"
REPORT_FIGURES_TITLE = "{period}（{scope}）"
REPORT_WRITTEN = "已导出：{path}"

# --- scheduling a night talk from the chat ----------------------------------------------------
CMD_HELP_SCHEDULE_TALK = "安排一次夜话（时间、话题，可加地点、主持）"
CMD_USAGE_SCHEDULE_TALK = ("安排夜话请这样发：/安排夜话 明晚7点半 村里修路 "
                           "地点：枫树屋场 主持：李伯"
                           "（时间也可以写“周六 19:30”或“12月5日 晚上8点”）")
CMD_TALK_BAD_TIME = "“{when}”这个时间没看懂。请写成“明晚7点半”“周六 19:30”或“12月5日 晚上8点”。"

# --- DingTalk and Feishu group robots: voice as a link ----------------------------------------
ROBOT_AUDIO_LINK = "▶ 点这里听语音（{length}）"
ROBOT_AUDIO_MINUTES = "{minutes}分{seconds}秒"
ROBOT_AUDIO_SECONDS = "{seconds}秒"
ROBOT_AUDIO_TITLE = "语音"
FEISHU_MEMBER_NAME = "飞书用户{tail}"  # events carry no names: the end of the member's id

# --- console (/admin): suggestions board, night talks, reports pages ---------------------------
ADMIN_SUG_TITLE = "群众建议"
ADMIN_SUG_FROM = "从"
ADMIN_SUG_TO = "到"
ADMIN_SUG_GROUP = "群"
ADMIN_SUG_HAMLET = "屋场"
ADMIN_SUG_TOPIC = "类别"
ADMIN_SUG_STATUS = "状态"
ADMIN_SUG_SEARCH = "内容含"
ADMIN_SUG_ALL = "全部"
ADMIN_SUG_SHOW_MERGED = "也显示已合并的重复建议"
ADMIN_SUG_FILTER = "筛选"
ADMIN_SUG_CLEAR = "清除条件"
ADMIN_SUG_TOTAL = "共 {total} 条"
ADMIN_SUG_NONE = "没有符合条件的建议。"
ADMIN_SUG_COL_NUMBER = "编号"
ADMIN_SUG_COL_DATE = "提出时间"
ADMIN_SUG_COL_AUTHOR = "提出人"
ADMIN_SUG_COL_TEXT = "内容"
ADMIN_SUG_COL_REPLY = "答复"
ADMIN_SUG_NUMBER = "第 {number} 号"
ADMIN_SUG_RAISED_BY = "{name}代提"
ADMIN_SUG_VOICE_TAG = "[语音]"
ADMIN_SUG_MERGED_INTO = "（重复，已并入第 {into} 号）"
ADMIN_SUG_PREV = "‹ 上一页"
ADMIN_SUG_NEXT = "下一页 ›"
ADMIN_SUG_PAGE = "第 {page} / {pages} 页"
ADMIN_SUG_BACK = "‹ 回到建议列表"
ADMIN_SUG_OPEN_ROOM = "打开群聊"
ADMIN_SUG_TALK = "夜话"
ADMIN_SUG_NO_TEXT = "（语音建议，还没有文字）"
ADMIN_SUG_VOICE = "听语音"
ADMIN_SUG_CHANGE_STATUS = "办理：改状态并回复"
ADMIN_SUG_NEW_STATUS = "改成"
ADMIN_SUG_REPLY_LABEL = "回复（会发到群里）"
ADMIN_SUG_REPLY_HINT = "比如：已列入下月计划。办结要写办理结果，暂不采纳要写理由。"
ADMIN_SUG_SAVE_AND_TELL = "保存并通知群里"
ADMIN_SUG_NO_STEPS = "这条建议已经办结，不能再改状态。"
ADMIN_SUG_TYPE_TEXT = "把语音打成文字"
ADMIN_SUG_EDIT_TEXT = "改正文字"
ADMIN_SUG_SAVE = "保存"
ADMIN_SUG_CHANGE_CATEGORY = "改类别"
ADMIN_SUG_MERGE = "合并重复建议"
ADMIN_SUG_MERGE_HINT = ("这条和另一条说的是同一件事？并入那一条：这条不再单独显示和统计，"
                        "记录都保留，群里不会收到通知。")
ADMIN_SUG_MERGE_INTO = "并入第几号"
ADMIN_SUG_MERGE_BUTTON = "合并"
ADMIN_SUG_UNMERGE = "取消合并，恢复单独统计"
ADMIN_SUG_DUPLICATES = "并入这一条的重复建议："
ADMIN_SUG_HISTORY = "办理记录"
ADMIN_SUG_NO_HISTORY = "还没有办理记录。"
ADMIN_SUG_NOT_FOUND = "没有这条建议。"
ADMIN_SUG_PICK_STATUS = "请选一个新状态。"
ADMIN_SUG_STATUS_DONE = "第 {number} 号建议已改为“{status}”，群里已经通知。"
ADMIN_SUG_NOT_TOLD = ("第 {number} 号建议已改为“{status}”，但群里的通知没有发出去，"
                      "请稍后在群里说一声。")
ADMIN_SUG_CATEGORY_DONE = "第 {number} 号建议的类别已改好。"
ADMIN_SUG_TEXT_DONE = "第 {number} 号建议的文字已保存。"
ADMIN_SUG_MERGE_DONE = "第 {number} 号建议已作为重复并入，不再单独统计。"
ADMIN_SUG_UNMERGE_DONE = "第 {number} 号建议已恢复单独统计。"
ADMIN_SUG_MERGE_NUMBER = "请写要并入的建议编号，比如 12。"
ADMIN_SUG_MERGE_SELF = "第 {number} 号不能并入它自己。"
ADMIN_SUG_MERGE_ALREADY = "第 {number} 号已经并入第 {into} 号了。"
ADMIN_SUG_MERGE_CYCLE = "第 {into} 号已经并入第 {number} 号，不能反过来再合并。"
ADMIN_SUG_MERGE_NOTE = "作为重复建议并入第 {into} 号"
ADMIN_SUG_UNMERGE_NOTE = "取消合并（原并入第 {into} 号），恢复单独统计"
ADMIN_SUG_NOT_MERGED = "第 {number} 号没有并入别的建议。"
ADMIN_SUG_BAD_DATE = "日期「{text}」看不懂，请写成 2026-01-01 这样。"
ADMIN_SUG_BAD_PERIOD = "开始日期 {start} 晚于结束日期 {end}，请改一下。"
ADMIN_TALK_TITLE = "夜话"
ADMIN_TALK_NONE = "还没有安排夜话。"
ADMIN_TALK_NUMBER = "第 {id} 号夜话"
ADMIN_TALK_COL_NUMBER = "编号"
ADMIN_TALK_COL_WHEN = "时间"
ADMIN_TALK_COL_GROUP = "群"
ADMIN_TALK_COL_TOPIC = "话题"
ADMIN_TALK_COL_PLACE = "地点"
ADMIN_TALK_COL_HOST = "主持（话事佬）"
ADMIN_TALK_COL_STATUS = "状态"
ADMIN_TALK_COL_COUNT = "建议"
ADMIN_TALK_SCHEDULE = "安排一场夜话"
ADMIN_TALK_DATE = "日期"
ADMIN_TALK_START = "开始时间"
ADMIN_TALK_END = "结束时间（不填就是两小时）"
ADMIN_TALK_TOPIC_HINT = "比如：村里修路"
ADMIN_TALK_PLACE_HINT = "不填就用群的屋场"
ADMIN_TALK_SCHEDULE_BUTTON = "安排并在群里预告"
ADMIN_TALK_NO_GROUPS = "还没有群，请先让管理员接入群。"
ADMIN_TALK_BACK = "‹ 回到夜话列表"
ADMIN_TALK_OPEN = "现在开始"
ADMIN_TALK_CLOSE = "结束并发汇总"
ADMIN_TALK_CANCEL = "取消这场夜话"
ADMIN_TALK_SUGGESTIONS = "收到的建议"
ADMIN_TALK_LIVE_HINT = "夜话进行中，新建议会自动出现在这里。"
ADMIN_TALK_LIVE_ENDED = "夜话已经结束。"
ADMIN_TALK_NO_SUGGESTIONS = "还没有人提建议。"
ADMIN_TALK_ON_BOARD = "在建议列表里办理这些建议 ›"
ADMIN_TALK_NOT_FOUND = "没有这场夜话。"
ADMIN_TALK_PICK_GROUP = "请选一个群。"
ADMIN_TALK_BAD_DATE = "日期「{text}」看不懂，请写成 2026-01-01 这样。"
ADMIN_TALK_BAD_TIME = "时间「{text}」看不懂，请写成 19:30 这样。"
ADMIN_TALK_SCHEDULED = "夜话已安排，预告已发到群里。"
ADMIN_TALK_OPENED = "第 {id} 号夜话开始了，群里已经通知。"
ADMIN_TALK_CLOSED = "第 {id} 号夜话结束了，汇总已发到群里。"
ADMIN_TALK_CANCELLED = "第 {id} 号夜话已取消。"
ADMIN_REPORT_TITLE = "报表"
ADMIN_REPORT_FORMAT = "文件格式"
ADMIN_REPORT_FORMATS = {"xlsx": "Excel（xlsx）", "docx": "Word（docx）", "csv": "CSV"}
ADMIN_REPORT_SHOW = "查看数字"
ADMIN_REPORT_DOWNLOAD = "下载文件"
ADMIN_REPORT_GET = "下载："
ADMIN_REPORT_SCOPE = "范围：{scope}"
ADMIN_REPORT_BAD_FORMAT = "不支持「{format}」格式，可以选：xlsx、docx、csv。"
ADMIN_REPORT_FAILED = "报表没有生成，请看看日期、群和屋场选得对不对。"

# --- console (/admin): sign-in, navigation, dashboard, lessons, calendar, groups, accounts ----
ADMIN_SITE_NAME = "夜话管理"
ADMIN_NAV_HOME = "首页"
ADMIN_NAV_LESSONS = "微党课"
ADMIN_NAV_CALENDAR = "发送日历"
ADMIN_NAV_TALKS = "夜话"
ADMIN_NAV_SUGGESTIONS = "建议"
ADMIN_NAV_REPORTS = "报表"
ADMIN_NAV_GROUPS = "群和角色"
ADMIN_NAV_USERS = "账号"
ADMIN_ROLE_LABELS = {"member": "普通成员", "facilitator": "话事佬", "secretary": "书记或文书",
                     "admin": "管理员"}
ADMIN_NO_TIME = "—"
ADMIN_TIME = "{month}月{day}日 {clock}"
ADMIN_TIME_YEAR = "{year}年{month}月{day}日 {clock}"
ADMIN_FORBIDDEN_TITLE = "没有权限"
ADMIN_FORBIDDEN_TEXT = "您的账号不能打开这个页面。如果需要，请联系管理员开通。"
ADMIN_CSRF_TITLE = "没有保存"
ADMIN_CSRF_TEXT = ("这一页打开太久了，或者不是从这个网站上交的，为了安全，什么都没有改。"
                   "请回到上一页，刷新后再交一次。")
ADMIN_NOT_FOUND_TITLE = "找不到"
ADMIN_NOT_FOUND_TEXT = "要找的内容不存在，可能已经删掉了。"
ADMIN_LOGIN_EMPTY = "请填写用户名和密码。"
ADMIN_LOGIN_WRONG = "用户名或密码不对，请再试一次。"
ADMIN_LOGIN_LOCKED = "登录失败次数太多，为了安全，请15分钟后再试。"
ADMIN_LOGGED_OUT = "已经退出。"
ADMIN_PASSWORD_SHORT = "密码至少要 {n} 位。"
ADMIN_PASSWORD_LONG = "密码最多 {n} 位。"
ADMIN_PASSWORDS_DIFFER = "两次输入的密码不一样，请重新输入。"
ADMIN_USERNAME_BAD = "用户名要 2 到 32 位，只能用英文字母、数字和 . _ - 这三个符号。"
ADMIN_USERNAME_TAKEN = "用户名「{username}」已经有人用了。"
ADMIN_DISPLAY_NAME_BAD = "请填写显示的名字，最多 {n} 个字。"
ADMIN_DASH_COLLECTED = "收集"
ADMIN_DASH_ADOPTED = "采纳"
ADMIN_DASH_DONE = "办结"
ADMIN_MONTH = "{month}月"
ADMIN_DASH_BAR_TITLE = "{month}{series} {n} 条"
ADMIN_VOICE_BAD_PROFILE = "没有这个语音风格。"
ADMIN_VOICE_STARTED = "正在生成「{profile}」的语音，稍等一会儿就能听。"
ADMIN_SCHEDULE_NO_GROUPS = "请至少选一个群。"
ADMIN_SCHEDULE_BAD_TIME = "时间看不懂，请写成 20:00 这样。"
ADMIN_SCHEDULE_BAD_DATE = "日期看不懂，请选一个日期。"
ADMIN_SCHEDULE_BAD_WEEKDAY = "请选星期几。"
ADMIN_SCHEDULE_NO_CRON = "请填写定时规则，比如 0 20 * * 5（每周五晚八点）。"
ADMIN_SCHEDULE_REPEATING = "按周期发送"
ADMIN_SCHEDULED = "已安排《{title}》发到 {groups}：{when}。"
ADMIN_SCHEDULE_CANCELLED = "已取消这个定时发送，以后不会再发。"
ADMIN_RULE_ONCE = "只发一次"
ADMIN_RULE_DAILY = "每天 {clock}"
ADMIN_RULE_WEEKLY = "每周{day} {clock}"
ADMIN_RULE_CRON = "按规则 {rule}"
ADMIN_DELIVERY_STATUS = {"claimed": "正在发送", "sent": "已发送", "failed": "发送失败",
                         "missed": "错过了"}
ADMIN_RETRY_STARTED = "正在重新发送，几秒钟后这里会显示结果。"
ADMIN_GROUP_BAD_NAME = "群名不能空着，最多 {n} 个字。"
ADMIN_GROUP_BAD_HAMLET = "屋场名最多 {n} 个字。"
ADMIN_GROUP_BAD_ZONE = "时区不认识，请从列表里选。"
ADMIN_GROUP_BAD_PROFILE = "没有这个语音风格，请从列表里选。"
ADMIN_GROUP_SAVED = "「{name}」已保存。"
ADMIN_ROLE_BAD = "请选一个角色，并写上用户编号。"
ADMIN_ROLE_NO_MEMBER = "这个群里没有编号为 {user} 的成员。"
ADMIN_ROLE_SET = "已把 {name} 在「{group}」设为{role}。"
ADMIN_USER_MISSING = "没有这个账号。"
ADMIN_USER_NOT_SELF = "不能改自己的角色或停用自己，请让另一位管理员来改。"
ADMIN_USER_ADDED = "已添加账号 {username}（{role}）。"
ADMIN_USER_ROLE_SET = "账号 {username} 现在是{role}。"
ADMIN_USER_DISABLED = "账号 {username} 已停用，不能再登录。"
ADMIN_USER_ENABLED = "账号 {username} 已恢复使用。"
ADMIN_USER_PASSWORD_SET = "账号 {username} 的密码已改好，请把新密码当面告诉本人。"
CLI_USERS_PASSWORD_PROMPT = "密码"
CLI_USERS_PASSWORD_AGAIN = "再输一遍密码"
CLI_USERS_PASSWORDS_DIFFER = "两次输入的密码不一样，请重新输入。"
CLI_USERS_PASSWORD_STOPPED = "没有输完密码，已停下，什么都没改。"
CLI_USERS_BAD_ROLE = ("角色「{role}」不认识，可以写：secretary（书记或文书）、"
                      "facilitator（话事佬）、admin（管理员）、member（普通成员）。")
CLI_USERS_ADDED = "已添加账号 {username}（{name}，{role}）。用浏览器打开 /admin 登录。"
CLI_USERS_MISSING = "没有账号「{username}」。用 yehua users list 查看有哪些账号。"
CLI_USERS_NONE = "还没有账号。用 yehua users add 用户名 --name 显示名 添加一个。"
CLI_USERS_TITLE = "管理后台账号"
CLI_USERS_COLUMNS = ("用户名", "名字", "角色", "状态", "上次登录")
CLI_USERS_ACTIVE = "正常"
CLI_USERS_DISABLED = "已停用"
CLI_USERS_DISABLED_DONE = "账号 {username} 已停用，已在所有地方退出登录。"
CLI_USERS_ENABLED_DONE = "账号 {username} 已恢复使用。"
CLI_USERS_PASSWORD_SET = "账号 {username} 的密码已改好，已在所有地方退出登录。"

# --- the web chat's limits: too fast, daily caps, voice storage, names, new identities --------
WEB_LIMIT_TOO_FAST = "您发得有点快，请歇一歇，{seconds} 秒后再发。"
WEB_LIMIT_VOICES_TODAY = "今天已经发了 {limit} 段语音，明天 0 点以后可以再发。先打字说吧。"
WEB_LIMIT_VOICE_FULL = "语音存放的地方已经满了，暂时发不了语音，请先打字，并告诉管理员。"
WEB_LIMIT_NEW_NAMES = "从这个网络进群的新人太多了，请过一个小时再来，或者请管理员帮忙。"
WEB_NAME_LIKE_BOT = "「{name}」像是小助手或管理人员的名字，容易让人认错，请换一个名字。"
WEB_NAME_LIKE_HOLDER = "群里的{role}已经叫「{name}」了，请换一个名字，免得大家认错。"
WEB_VOICE_EXPIRED = "这段语音放得太久，已经删掉了。"
LIMIT_SUGGESTIONS_TODAY = ("今天您已经提了 {limit} 条建议，这条先记作普通留言，没有算成建议。"
                           "明天 0 点以后可以再提。")
LIMIT_POINTS_TODAY = "今天的积分已经满 {limit} 分了，这次不再加分，明天 0 点以后重新算。"

# Dates a report or the suggestion board can be asked for.
DATE_OUT_OF_RANGE = "日期 {day} 超出范围了，请选 {first} 到 {last} 之间的日子。"

# --- start-up, backup and restore (yehua run / backup / restore) ------------------------------
CLI_SETTING_BAD = "设置有误：{problem}。请改一下 .env 文件或环境变量。"
CLI_PORT_BUSY = ("端口 {port} 已经被占用了（可能夜话已经在运行）。请先停掉它，"
                 "或在 .env 里用 YEHUA_PORT 换一个端口，如 YEHUA_PORT={other}。")
CLI_PORT_DENIED = ("没有权限使用端口 {port}（1024 以下的端口要管理员权限）。"
                   "请在 .env 里用 YEHUA_PORT 换一个，如 YEHUA_PORT=8080。")
CLI_HOST_BAD = ("没法在地址 {host} 上等人来访：这台电脑没有这个地址。"
                "请检查 .env 里的 YEHUA_HOST，一般写 127.0.0.1（只给本机）或 0.0.0.0（给全村）。")
CLI_LISTEN_FAILED = "没法在 {host}:{port} 上启动：{error}。请检查 YEHUA_HOST 和 YEHUA_PORT。"
CLI_DATA_DIR_BAD = ("数据文件夹 {path} 用不了：{error}。"
                    "请检查 YEHUA_DATA_DIR，或给这个文件夹写入权限。")
CLI_DATABASE_FAILED = "数据库打不开：{error}。请检查 YEHUA_DATABASE_URL，以及数据库是否在运行。"
BACKUP_HELP = ("备份：把数据库和语音文件打成一个 zip 文件，机器人运行时也能做。\n\n"
               "例：yehua backup --to /media/u盘/夜话备份.zip")
BACKUP_TO_HELP = ("保存到哪个文件或文件夹；"
                  "不写就放在备份文件夹（YEHUA_BACKUP_DIR，默认 data/backups）")
RESTORE_HELP = ("从备份恢复：把 zip 里的数据库和语音放回数据文件夹。请先停掉机器人。\n\n"
                "例：yehua restore 夜话备份.zip")
RESTORE_FILE_HELP = "yehua backup 做出来的 zip 文件"
RESTORE_FORCE_HELP = "数据文件夹里已有数据也恢复：旧的挪到 before-restore-… 文件夹，不删除"
BACKUP_PROGRESS = "正在备份"
RESTORE_PROGRESS = "正在恢复"
BACKUP_DONE = "备份好了：{path}（{size}，{files} 个语音文件）"
BACKUP_COUNTS = "其中有：{counts}"
BACKUP_COUNT_NAMES = {"suggestion": "建议", "member": "成员", "chat_group": "群",
                      "chat_message": "聊天记录", "console_user": "后台账号"}
BACKUP_COUNT = "{name} {count} 条"
BACKUP_KEEP_SAFE = "请把这个文件另存一份到 U 盘或别的电脑上，这台电脑坏了也不怕。"
BACKUP_UNSUPPORTED = "现在只能备份 SQLite 和 PostgreSQL 数据库，这里用的是 {backend}。"
BACKUP_NO_DATABASE = "找不到数据库文件 {path}：请检查 YEHUA_DATA_DIR 和 YEHUA_DATABASE_URL。"
BACKUP_DATABASE_DAMAGED = ("数据库文件检查没通过，可能已经损坏。"
                           "请找技术人员看看，不要覆盖旧的备份。")
BACKUP_DATABASE_UNREACHABLE = ("连不上数据库：{error}。"
                               "请检查 YEHUA_DATABASE_URL，以及数据库是否在运行。")
BACKUP_SQLITE_FAILED = "读数据库没成功：{error}。请稍后再试；一直不行就找技术人员看看。"
BACKUP_NO_PG_TOOL = ("没找到 {tool}：备份和恢复 PostgreSQL 要用它。"
                     "请安装 PostgreSQL 客户端（如 apt-get install postgresql-client）再试。")
BACKUP_PG_TOOL_FAILED = "{tool} 没做成：{error}"
BACKUP_NO_ROOM = ("{folder} 所在的磁盘空间不够：需要约 {need}，只剩 {free}。"
                  "请换个地方（--to）或腾出空间。")
BACKUP_TARGET_EXISTS = "{path} 已经有了，没有覆盖它。请换个文件名。"
BACKUP_WRITE_FAILED = ("备份没写成（{path}）：{error}。"
                       "没有留下半截文件，请腾出空间或换个地方再试。")
RESTORE_NO_FILE = "找不到备份文件 {path}。"
RESTORE_NOT_A_BACKUP = "这个文件不是夜话的备份（或已经损坏），没有恢复任何东西。"
RESTORE_OTHER_DATABASE = ("这个备份里是 {archived} 数据库，而现在设置的是 {configured}，"
                          "没法直接恢复。请检查 YEHUA_DATABASE_URL。")
RESTORE_NOT_EMPTY = ("数据文件夹 {path} 里已经有数据，没有覆盖。要用备份替换，请先停掉机器人，"
                     "再加 --force（旧数据会挪到 before-restore-… 文件夹，不会删除）。")
RESTORE_WRITE_FAILED = "恢复没做完（{path}）：{error}。请腾出空间后再试。"
RESTORE_DONE = "恢复好了：{counts}，{files} 个语音文件。现在可以启动 yehua 了。"
RESTORE_MOVED_ASIDE = "原来的数据挪到了 {path}，确认没问题后可以删掉。"

# Storage faults: what a member is told when what they sent could not be saved.
STORAGE_NOT_SAVED = "抱歉，系统刚才出了故障，您刚发的这条没能记下来，请过一会儿再发一次。"
WEB_NOT_SAVED = "这条消息没能保存，已放回输入框，请稍等一下再发送。"
WEB_VOICE_NOT_SAVED = "语音没能保存，请稍等一下再录一次。"
ADMIN_REPORT_NO_ROOM = "磁盘空间不够，报表没能生成。请清理出一些空间后再下载。"

# --- a voice message outside a night talk: asked whether it is a suggestion ------------------
CMD_VOICE_ASK = "要把这段语音记成建议吗？回「是」就记上。"
WEB_VOICE_ASK = CMD_VOICE_ASK  # the web chat puts a button under this question
WEB_VOICE_ASK_BUTTON = "是，记成建议"
WEB_VOICE_ASK_ANSWER = "是"  # what the button says in the chat for the member
WEB_VOICE_ASK_DONE = "已回复"

# A quiet group: answers for one member alone, and listening tallies instead of one message
# per listener.
QUIET_TALLY_TODAY = "今天已有 {count} 位乡亲听完《{title}》。还没听的，抽空点开听一听。"
QUIET_TALLY = "已有 {count} 位乡亲听完《{title}》。还没听的，抽空点开听一听。"
QUIET_LISTEN_NOTED = "{name}，您听完了，积分加 {points} 分。谢谢您！"
QUIET_MINE_SHORT = "您提过 {count} 条建议，最近的第 {number} 号：{status}。"
QUIET_TELEGRAM_START = "（想让我私下回您，请点 @{bot} 发一句 /start。）"
WEB_PRIVATE = "只有您能看到"

# --- night talks: times read, the facilitator's 确认, repeating talks -------------------------
TALK_CONFIRM_ONE = ("我看到的是：{when}，{place}聊聊“{topic}”。{host}\n"
                    "对的话回「确认」，我再发到群里；不对就重新发一遍，不办了回「取消」。")
TALK_CONFIRM_SERIES = ("我看到的是：{rhythm}，下一次是{when}，{place}聊聊“{topic}”。{host}\n"
                       "对的话回「确认」，我再发到群里；不对就重新发一遍，不办了回「取消」。")
TALK_CONFIRMED = "好，已经在群里发了预告。"
TALK_CONFIRMED_SERIES = "好，已经在群里发了预告。以后{rhythm}都开，每次提前几天预告。"
TALK_DROPPED = "好，这次安排不算了，群里没有发。"
TALK_NOTHING_TO_CONFIRM = "现在没有等您确认的夜话。先发：/安排夜话 明晚7点半 村里修路"
TALK_PAST = "{when}已经过去了，请换一个还没到的时间。"
TALK_BAD_REPEAT = ("“{when}”看不懂。重复的夜话请写成“每周五晚上7点半”“每月第一个周五晚上7点半”"
                   "或“每月15号晚上8点”。")
TALK_REPEATS = "（{rhythm}都开）"
TALK_EVERY_WEEK = "每{weekday} {time}"
TALK_EVERY_MONTH_DAY = "每月{day}号 {time}"
TALK_EVERY_MONTH_WEEKDAY = "每月{nth}{weekday} {time}"
TALK_NTH = ("第一个", "第二个", "第三个", "第四个", "第五个")
TALK_LAST = "最后一个"
TALK_ERR_DRAFT = "第 {id} 号夜话还没确认，确认以后才能开始。"
TALK_ERR_NOT_DRAFT = "第 {id} 号夜话不是在等确认的（可能已经过了一天，请重新安排）。"
TALK_ERR_NO_SERIES = "没有第 {id} 号重复夜话。"
TALK_SERIES_ENDED = "好，这个重复的夜话以后不开了。"
CMD_HELP_CONFIRM = "确认刚安排的夜话，发到群里"
CLI_NIGHT_UNDERSTOOD = "看到的是：{when}，{group}，“{topic}”。"
CLI_NIGHT_UNDERSTOOD_SERIES = "看到的是：{rhythm}，下一次是{when}，{group}，“{topic}”。"
CLI_NIGHT_ASK = "对吗？确认后机器人会在群里预告"
CLI_NIGHT_NEEDS_YES = "没有人在终端前确认。看清时间后，加 --yes 再运行一次。"
CLI_NIGHT_NOT_DONE = "没有安排。"
CLI_NIGHT_SERIES_ADDED = ("已安排重复夜话（系列 #{series}）：{rhythm}，{group}，“{topic}”。"
                          "下一次是夜话 #{id}，{when}。")
CLI_NIGHT_SERIES_TITLE = "重复的夜话"
CLI_NIGHT_SERIES_COLUMNS = ("系列", "群", "什么时候", "话题", "下一次", "状态")
CLI_NIGHT_SERIES_CANCELLED = "重复夜话系列 #{series} 已取消，以后不再开。"
CLI_NIGHT_NOT_IN_SERIES = "夜话 #{id} 不是重复夜话，用不着 --series。"
NIGHT_SERIES_STATUS_LABELS = {"draft": "待确认", "active": "重复中", "cancelled": "已取消"}
ADMIN_TALK_DRAFTS = "等确认的夜话"
ADMIN_TALK_DRAFTS_HINT = ("在群里安排、还没回「确认」的夜话。确认以后才在群里预告；"
                          "一天不确认就作废。")
ADMIN_TALK_CONFIRM = "确认并在群里预告"
ADMIN_TALK_CONFIRMED = "第 {id} 号夜话已确认，预告已发到群里。"
ADMIN_TALK_SERIES = "重复的夜话"
ADMIN_TALK_COL_RHYTHM = "什么时候开"
ADMIN_TALK_COL_NEXT = "下一次"
ADMIN_TALK_END_SERIES = "整个系列不开了"
ADMIN_TALK_SERIES_ENDED = "这个重复的夜话以后不开了。"
ADMIN_TALK_REPEATS = "重复"
CMD_HELP_CANCEL_TALK = "取消下一次夜话（重复的夜话加“全部”，以后都不开）"
TALK_NOTHING_TO_CANCEL = "现在没有安排好、还没开始的夜话可以取消。"
TALK_CANCELLED_ONE = "好，这一次夜话不开了。"
TALK_CANCELLED_NEXT = "好，这一次不开了。下一次照常：{when}。"
TALK_ALL_WORDS = ("全部", "以后都不开", "整个", "都不开")
TALK_ANNOUNCE_REPEATS = "以后{rhythm}都开。"

# --- Handlers and deadlines (承办人、期限、待办) ---------------------------------------------
CMD_HELP_ASSIGN = "交给人办：/交办 号码 李伯 下周五（不写期限就是 {days} 天）"
CMD_USAGE_ASSIGN = ("交办请这样发：/交办 12 李伯 下周五\n"
                    "群外的人带上电话：/交办 12 王师傅（修路队） 13800001111 12月20号\n"
                    "采纳时一起交办：/采纳 12 交给 李伯 3天内 已列入计划")
CMD_HELP_TODO = "看看交给我办的建议"
HANDLING_WHO_MISSING = "交给谁办？请写上名字，例如：/交办 12 李伯 下周五"
HANDLING_NO_SUCH_MEMBER = ("群里没找到「{name}」。是群里的人请 @ 他，或写他在群里的名字；"
                           "群外的人请带上电话，例如：/交办 12 {name}（网格员） 13800001111")
HANDLING_WHICH_MEMBER = "群里叫「{name}」的有好几位：{names}。请 @ 要交办的那一位，或写全名字。"
HANDLING_BAD_DEADLINE = "没看懂期限「{words}」。可以写：下周五、12月20号、3天内。"
HANDLING_PAST_DEADLINE = "期限「{words}」已经过了，请写一个以后的日子。"
HANDLING_NOT_OPEN = "第 {number} 号建议现在是“{status}”，只有已采纳、办理中的建议可以交办。"
HANDLING_NAME_TOO_LONG = "名字太长了，请写 {limit} 个字以内。"
HANDLING_BAD_PHONE = "电话「{phone}」看着不对，请写 7 到 15 位数字。"
HANDLING_ASSIGNED = "第 {number} 号建议已交给 {name} 办，期限 {due}。"
HANDLING_ASSIGNED_AGAIN = "第 {number} 号建议改交给 {name} 办（原来是 {before}），期限 {due}。"
HANDLING_PHONE_ONLY = "{name} 不在群里，机器人不会通知他，请打电话 {phone} 告诉他。"
HANDLING_HISTORY = "交给 {name} 办，期限 {due}"
HANDLING_HISTORY_AGAIN = "改交给 {name} 办（原来是 {before}），期限 {due}"
HANDLING_TOLD = ("{name}，交给您一件事：第 {number} 号建议（{author}：{quote}），"
                 "请在 {due} 前办好。\n开始办了发：/办理 {number}\n"
                 "办好了发：/办结 {number} 办理结果")
HANDLING_TOLD_SHORT = "第 {number} 号建议交给您办，期限 {due}。办好发：/办结 {number} 结果"
HANDLING_ONLY_YOURS = "第 {number} 号建议不是交给您办的，只有承办人或书记能改它的状态。"
TODO_NONE = "您手上没有待办的建议。"
TODO_HEADING = "您的待办（{count} 件）："
TODO_LINE = "第 {number} 号：{text}　期限 {due}{overdue}"
TODO_OVERDUE = "　⚠已超期"
TODO_FOOTER = "办好了发：/办结 号码 办理结果"
TODO_SHORT = "您有 {count} 件待办，其中 {overdue} 件已超期。"
DIGEST_HANDLER_HEADING = "早上好！您有 {count} 件建议过了期限还没办结："
DIGEST_GROUP_HEADING = "「{group}」有 {count} 件建议过了期限还没办结："
DIGEST_LINE = "第 {number} 号：{text}　{handler}　期限 {due}，超 {days} 天"
DIGEST_PHONE = "（{phone}）"
DIGEST_FOOTER = "办好了发：/办结 号码 办理结果"
DUE_DATE = "{month}月{day}日"
CLI_SUG_ASSIGNED = "第 {number} 号建议已交给 {name} 办，期限 {due}。"
CLI_SUG_TELL_LATER = "运行中的机器人会私下告诉 {name}。"
CLI_SUG_TODO_TITLE = "待办的建议"
CLI_SUG_TODO_COLUMNS = ("号码", "群", "承办人", "期限", "状态", "内容")
CLI_SUG_TODO_NONE = "没有待办的建议。"
CLI_SUG_OVERDUE = "超期"
ADMIN_NAV_TODOS = "待办"
ADMIN_TODO_TITLE = "待办（交办出去、还没办结的建议）"
ADMIN_TODO_NONE = "没有待办的建议。"
ADMIN_TODO_ALL_GROUPS = "所有群"
ADMIN_TODO_OVERDUE = "超期"
ADMIN_TODO_DUE = "期限"
ADMIN_SUG_ASSIGN = "交办"
ADMIN_SUG_HANDLER = "承办人"
ADMIN_SUG_HANDLER_HINT = "群里的人写他在群里的名字；群外的人（网格员、修路队）再写上电话"
ADMIN_SUG_HANDLER_ROLE = "身份（例如 网格员）"
ADMIN_SUG_HANDLER_PHONE = "电话"
ADMIN_SUG_DUE_HINT = "期限，例如 下周五、12月20号、3天内；不写就是 {days} 天"
ADMIN_SUG_ASSIGN_DONE = "第 {number} 号建议已交给 {name} 办，期限 {due}。"
ADMIN_SUG_ASSIGN_NOT_TOLD = "第 {number} 号建议已交给 {name} 办，但通知没发出去，请另外告诉他。"

# --- 屋场 and attendance (到场) ---
HAMLET_EMPTY = "屋场名不能是空的。"
HAMLET_TOO_LONG = "屋场名最多 {n} 个字。"
HAMLET_EXISTS = "这个群已经有「{name}」这个屋场了。"
HAMLET_NOT_FOUND = "这个群没有叫「{name}」的屋场。现有的屋场：{have}。"
HAMLET_NONE_YET = "还没有"
HAMLET_NOT_OF_GROUP = "「{name}」不是这条建议所在群的屋场，请从列表里选。"
HAMLET_PICK = "请从列表里选一个屋场。"
HAMLET_CORRECTED_NOTE = "屋场从「{old}」改为「{new}」"
HAMLET_BLANK = "未填"
ATTEND_LINE = "到场 {total} 人（群里签到 {in_chat} 人，现场 {in_person} 人）"
ATTEND_CHECKED_IN = "{name}，签到好了，欢迎来夜话！"
ATTEND_ALREADY = "{name}，您已经签过到了。"
ATTEND_NO_TALK = "现在没有正在开的夜话，到场人数要在夜话开着的时候记。"
ATTEND_WALK_INS_SET = "记下了：现场另有 {n} 人（再发一次“/到场 人数”会改成新的人数，不会叠加）。"
ATTEND_NAMES_ADDED = "记下了：{names} 到场。"
ATTEND_NAMES_KNOWN = "这几位已经记过了。"
ATTEND_NOBODY_YET = "还没有人签到。"
ATTEND_SHORT = "记下了。{line}"
ATTEND_TOO_MANY = "人数最多记 {n} 人，请再看看。"
ATTEND_TOO_MANY_NAMES = "一次最多记 {n} 个名字，请分几次发。"
ATTEND_BAD_NAME = "「{name}」不像一个名字，请用空格隔开名字，或者写人数，比如“/到场 23人”。"
CMD_HELP_ATTEND = "记下现场来的人：/到场 张三 李四，或 /到场 23人"
CMD_USAGE_ATTEND = ("用法：/到场 张三 李四（记下名字），或 /到场 23人（现场没有签到的人数，"
                    "再发一次会改成新的人数）")
WEB_CHECK_IN = "签到"
WEB_CHECK_IN_DONE = "已签到"
ADMIN_HAMLETS = "屋场"
ADMIN_HAMLETS_HINT = ("一个群可以管几个屋场。把群里的人分到屋场，他们提的建议就记在那个屋场下；"
                      "没分的，记在夜话的地点或群的屋场下。改名不影响已经记下的建议。")
ADMIN_HAMLETS_NONE = "这个群还没有列出屋场。"
ADMIN_HAMLET_ADD = "添加屋场"
ADMIN_HAMLET_NAME = "屋场名"
ADMIN_HAMLET_RENAME = "改名"
ADMIN_HAMLET_REMOVE = "删除"
ADMIN_HAMLET_MEMBERS = "{n} 人"
ADMIN_HAMLET_ADDED = "已添加屋场「{name}」。"
ADMIN_HAMLET_RENAMED = "屋场已改名为「{name}」。"
ADMIN_HAMLET_REMOVED = "已删除屋场「{name}」，原来在这个屋场的 {n} 人现在不属于任何屋场。"
ADMIN_MEMBER_HAMLET = "屋场"
ADMIN_MEMBER_NO_HAMLET = "（不分屋场）"
ADMIN_MEMBER_HAMLET_SET = "{name} 现在属于「{hamlet}」。"
ADMIN_MEMBER_HAMLET_CLEARED = "{name} 现在不属于任何屋场。"
ADMIN_MEMBER_NOT_FOUND = "这个群里没有用户编号为 {user} 的人。"
ADMIN_MEMBER_BAD_HAMLET = "请从这个群的屋场里选。"
ADMIN_SUG_CHANGE_HAMLET = "改屋场"
ADMIN_SUG_HAMLET_DONE = "第 {number} 号建议的屋场已改好。"
ADMIN_TALK_PARTICIPANTS = "到场"
ADMIN_TALK_PARTICIPANTS_NONE = "还没有人签到。"
ADMIN_TALK_ATTEND_HOW = {"check_in": "群里签到", "suggestion": "提了建议", "in_person": "现场"}
ADMIN_TALK_WALK_INS = "另有现场 {n} 人没记名字"
CLI_HAMLETS_NONE = "群 #{group} 还没有列出屋场。"
CLI_HAMLET_ADDED = "已给群 #{group} 添加屋场「{name}」。"
CLI_HAMLET_RENAMED = "屋场「{old}」已改名为「{name}」。"
CLI_HAMLET_REMOVED = "已删除屋场「{name}」（原有 {n} 人，现在不属于任何屋场）。"
CLI_HAMLET_ASSIGNED = "{name} 现在属于「{hamlet}」。"
CLI_HAMLET_UNASSIGNED = "{name} 现在不属于任何屋场。"
CLI_MEMBER_NOT_FOUND = "群 #{group} 里没有用户编号为 {user} 的人。"

# --- the figures the seeds count by, and the public ledger (公开台账) -----------------------
OUTCOME_HEADING = "夜话与办理成效"
OUTCOME_HEADERS = ("夜话场次", "参与人数", "参与人次", "提出", "采纳", "办结", "暂不采纳",
                   "采纳率", "办结率", "办结用时中位数（天）", "90%办结用时（天）", "目前逾期")
OUTCOME_BY = {"group": "按群", "hamlet": "按屋场", "topic": "按类别"}
OUTCOME_BY_COLUMN = {"group": "群", "hamlet": "屋场", "topic": "类别"}
OUTCOME_SUMMARY = ("本期召开夜话{talks}场，参与群众{people}人、{person_times}人次；"
                   "提出建议{raised}条，采纳{adopted}条（采纳率{adoption}），"
                   "办结{done}条（办结率{completion}）")
OUTCOME_SUMMARY_DAYS = "，办结用时中位数{median}天，90%的建议在{p90}天内办结"
OUTCOME_SUMMARY_OVERDUE = "；目前逾期未办结{overdue}条。"
OUTCOME_SUMMARY_NONE_OVERDUE = "；目前没有逾期未办结的建议。"
OUTCOME_DOCX_HAMLETS = "各屋场情况"
REPORT_DOCX_OVERDUE = "（逾期）"
REPORT_OVERDUE_MARK = "逾期"
DASH_OUTCOME_TITLE = "本月夜话与办理成效"
DASH_OUTCOME_HINT = "夜话场次、参与人数和办结用时按本月统计；逾期是现在还没办完、已过期限的。"
LEDGER_TITLE = "{group} · 建议公开台账"
LEDGER_INTRO = "大家提的建议都在这里，办到哪一步、谁在办、怎么答复的，一看就知道。"
LEDGER_EMPTY = "还没有人提建议。夜话时说一说，或者在群里发「建议：……」就能记上。"
LEDGER_NUMBER = "第 {number} 号"
LEDGER_RAISED = "{date} 提出"
LEDGER_BY = "提出人：{name}"
LEDGER_HAMLET = "屋场：{hamlet}"
LEDGER_HANDLER = "承办：{role}"
LEDGER_HANDLER_GENERIC = "村里安排专人办理"
LEDGER_DUE = "期限：{date}"
LEDGER_DONE_AT = "{date} 办结"
LEDGER_OVERDUE = "已超过期限"
LEDGER_REPLY = "答复：{reply}"
LEDGER_VOICE = "（语音建议）"
LEDGER_NEWER = "← 更新的"
LEDGER_OLDER = "更早的 →"
LEDGER_PAGE = "第 {page} / {pages} 页"
LEDGER_NOT_FOUND = "这个台账链接已经失效了。请在群里发「台账」获取新的链接。"
LEDGER_LINK = "本群的建议公开台账（谁都能看，办到哪一步一目了然）：{url}"
LEDGER_CLOSE_LINE = "所有建议的办理进度，随时可以在公开台账查看：{url}"
CMD_HELP_LEDGER = "看本群建议公开台账的链接"
LEDGER_MONTHLY = ("【{month}月建议小结】本月收到建议 {raised} 条，已采纳 {adopted} 条，"
                  "已办结 {done} 条，还在办的有 {doing} 条。谢谢大家出主意！")
LEDGER_MONTHLY_NONE = "【{month}月建议小结】这个月还没有收到建议。有什么想法，随时在群里说。"
LEDGER_MONTHLY_LINK = "每一条的进度都在公开台账里：{url}"
ADMIN_LEDGER_TITLE = "公开台账"
ADMIN_LEDGER_HINT = "群成员用这个链接查看本群建议的办理情况，不用登录。换链接后，旧链接立即失效。"
ADMIN_LEDGER_NONE = "还没有生成链接。在群里发「台账」，或者点下面的按钮生成。"
ADMIN_LEDGER_MAKE = "生成链接"
ADMIN_LEDGER_ROTATE = "换一个新链接（旧链接作废）"
ADMIN_LEDGER_ROTATED = "已换成新链接，旧链接不能再打开了。"
ADMIN_LEDGER_MADE = "台账链接已生成。"

# The points shop (积分超市): goods, redemptions and receipts.
SHOP_NAME_MISSING = "请写上商品的名字，例如：洗衣粉。"
SHOP_NAME_TOO_LONG = "商品名字太长了，请不超过 {limit} 个字。"
SHOP_BAD_PRICE = "价格要写成 1 到 {limit} 之间的整数积分。"
SHOP_BAD_STOCK = "库存要写成 0 到 {limit} 之间的整数。"
SHOP_BAD_QUANTITY = "数量要写成 1 到 {limit} 之间的整数。"
SHOP_GOOD_EXISTS = "积分超市里已经有「{name}」了，改价格或库存请用编辑。"
SHOP_NO_SUCH_GOOD = "积分超市里没有「{name}」。现有：{names}"
SHOP_NO_GOODS = "积分超市里还没有商品，请先在后台或用命令添加。"
SHOP_GOOD_GONE = "这样商品不在本村的积分超市里，请刷新页面再选。"
SHOP_WHICH_GOOD = "叫「{name}」的商品有好几样：{names}。请写全名字。"
SHOP_GOOD_INACTIVE = "「{name}」已经下架了。"
SHOP_OUT_OF_STOCK = "「{name}」库存不够：只剩 {stock} 件，要换 {quantity} 件。"
SHOP_NOT_ENOUGH_POINTS = ("{member}的积分不够：换 {name} ×{quantity} 要 {points} 分，"
                          "现在只有 {balance} 分。")
SHOP_RECEIPT = "您用 {points} 分换了 {name} ×{quantity}，还剩 {balance} 分。"
SHOP_REDEEMED = "已记下：{member} 用 {points} 分换了 {name} ×{quantity}，还剩 {balance} 分。"
SHOP_WHO_MISSING = "给谁兑换？请 @ 他，或写他在群里的名字，例如：/兑换 @王奶奶 洗衣粉"
SHOP_NO_SUCH_MEMBER = "群里没找到「{name}」。请 @ 他，或写他在群里的名字。"
SHOP_WHICH_MEMBER = "群里叫「{name}」的有好几位：{names}。请 @ 要兑换的那一位，或写全名字。"
CMD_HELP_REDEEM = "给群里的人记一笔积分兑换（积分超市）"
CMD_USAGE_REDEEM = "用法：/兑换 @王奶奶 洗衣粉 2（数量不写就是 1 件）"
ADMIN_NAV_SHOP = "积分超市"
ADMIN_SHOP_TITLE = "积分超市"
ADMIN_SHOP_VILLAGE = "村（群）"
ADMIN_SHOP_CHOOSE = "选择"
ADMIN_SHOP_GOODS = "商品"
ADMIN_SHOP_NO_GOODS = "还没有商品。在下面添加第一样。"
ADMIN_SHOP_NAME = "名字"
ADMIN_SHOP_PRICE = "价格（积分）"
ADMIN_SHOP_STOCK = "库存"
ADMIN_SHOP_ADD = "添加商品"
ADMIN_SHOP_SAVE = "保存"
ADMIN_SHOP_DEACTIVATE = "下架"
ADMIN_SHOP_ACTIVATE = "重新上架"
ADMIN_SHOP_OFF = "已下架"
ADMIN_SHOP_ADDED = "已添加「{name}」。"
ADMIN_SHOP_SAVED = "「{name}」已保存。"
ADMIN_SHOP_REDEEM = "记一笔兑换"
ADMIN_SHOP_MEMBER = "兑换人"
ADMIN_SHOP_GOOD = "商品"
ADMIN_SHOP_QUANTITY = "数量"
ADMIN_SHOP_BALANCE = "积分余额"
ADMIN_SHOP_POINTS = "{points} 分"
ADMIN_SHOP_RECENT = "最近的兑换"
ADMIN_SHOP_NO_RECENT = "还没有人兑换过。"
ADMIN_SHOP_RECENT_LINE = "{member} 换了 {name} ×{quantity}，用去 {points} 分"
ADMIN_SHOP_NO_GROUPS = "还没有群。先在「群」页面添加一个群。"
ADMIN_SHOP_NO_MEMBERS = "这个群里还没有认识的人。"
ADMIN_SHOP_RECEIPT_NOT_SENT = "已记下兑换，但回执没能发到群里：{error}"
CLI_SHOP_RECEIPT_LATER = "运行中的机器人会把回执私下发给 {member}。"
