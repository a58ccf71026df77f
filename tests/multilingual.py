"""A multilingual test set of extracted page text: good articles and junk pages in English, German,
French, Spanish, Chinese and Japanese, written by the project's own grammars (``vocab_astro``,
``vocab_foreign``, and the small Chinese and Japanese ones below, written for this project).

Good articles are as long as a grammar's frame deck allows without reusing a frame (so their n-gram
repetition is that of prose, not of a template), one paragraph per line, as trafilatura writes them.
Junk pages are the kinds the quality filters exist for, in the same language: a navigation menu (one
short item per line), a page whose paragraph repeats, and a stub of one or two sentences.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipeline.sample import vocab_astro, vocab_foreign
from pipeline.sample.grammar import Grammar

LANGUAGES = ("en", "de", "fr", "es", "zh", "ja")
_NO_SPACES = ("zh", "ja")  # sentences follow each other without a space
JUNK_KINDS = ("menu", "repeated", "stub")

# a menu's items: the site sections, in the page's language
_MENU = {
    "en": ["Home", "News", "Missions", "Planets", "Moons", "Comets", "Night sky", "Telescopes", "Events", "About us",
           "Contact", "Newsletter", "Archive", "Imprint", "Privacy"],
    "de": ["Startseite", "Nachrichten", "Missionen", "Planeten", "Monde", "Kometen", "Sternhimmel", "Teleskope",
           "Termine", "Über uns", "Kontakt", "Newsletter", "Archiv", "Impressum", "Datenschutz"],
    "fr": ["Accueil", "Actualités", "Missions", "Planètes", "Lunes", "Comètes", "Ciel nocturne", "Télescopes",
           "Agenda", "Qui sommes-nous", "Contact", "Lettre d'information", "Archives", "Mentions légales"],
    "es": ["Inicio", "Noticias", "Misiones", "Planetas", "Lunas", "Cometas", "Cielo nocturno", "Telescopios",
           "Agenda", "Quiénes somos", "Contacto", "Boletín", "Archivo", "Aviso legal", "Privacidad"],
    "zh": ["首页", "新闻", "任务", "行星", "卫星", "彗星", "夜空", "望远镜", "活动", "关于我们", "联系我们", "订阅",
           "归档", "隐私"],
    "ja": ["ホーム", "ニュース", "ミッション", "惑星", "衛星", "彗星", "星空", "望遠鏡", "イベント", "会社概要",
           "お問い合わせ", "メールマガジン", "アーカイブ", "プライバシー"],
}


_CJK_COMMON = {
    "KM": lambda rng: str(rng.randint(14, 2400)), "YEAR": lambda rng: str(rng.randint(1996, 2025)),
    "N2": lambda rng: str(rng.randint(12, 95)), "PCT": lambda rng: str(rng.randint(2, 45)),
    "KELVIN": lambda rng: str(rng.randint(40, 720)), "DAYS": lambda rng: str(rng.randint(3, 300)),
    "M": vocab_astro.MISSION_NAMES,
}
ZH = Grammar(slots={**_CJK_COMMON,
    "BODY": ["火星", "木卫二", "土卫六", "月球", "金星", "谷神星", "土卫二", "冥王星"],
    "FEAT": ["一座撞击坑", "一条熔岩管", "一片沙丘", "一道深谷", "一片火山平原", "一个甲烷湖", "一道冰崖"],
    "INSTR": ["红外光谱仪", "探地雷达", "广角相机", "磁强计", "激光高度计", "地震仪", "质谱仪"],
    "TEAM": ["科学团队", "控制中心", "研究小组", "导航团队"],
    "INST": ["北山天文台", "西湖大学", "行星科学研究所", "深空探测中心"],
}, frames=[
    "{M}探测器在{BODY}表面发现了{FEAT}，距离赤道大约{KM}公里。",
    "{INST}的研究人员表示，这些数据改变了我们对{BODY}的认识。",
    "借助{INSTR}，科学家测量了地表温度，误差只有百分之{PCT}左右。",
    "这项任务于{YEAR}年发射，预计还将继续工作好几年。",
    "{TEAM}花了{DAYS}天时间准备这次困难的变轨。",
    "在飞掠过程中，探测器距离地面只有{KM}公里。",
    "照片显示了许多以前从未见过的细节。",
    "在得出可靠的结论之前，还需要几个月的分析。",
    "漫长的极夜里，那里的温度几乎不超过{KELVIN}开尔文。",
    "{TEAM}希望下一次观测能够证实这些初步的线索。",
    "没有任何理论模型预测到这样清晰的结构。",
    "这并不是{BODY}第一次让天文学家感到惊讶。",
    "原始数据将在明年向公众开放。",
    "与{BODY}相比，研究人员注意到了一个很大的差别。",
    "专家认为，现在谈论冰下海洋还为时过早。",
    "探测器上装有大约十台仪器，其中包括{INSTR}和{INSTR}。",
    "自发射以来，工程师已经{N2}次修正了飞行轨道。",
    "这项任务的花费比计划的少，这在航天领域并不多见。",
    "在图像上可以清楚地看到一层层的岩石和冰。",
    "信号需要几十分钟才能到达地球上的天线。",
    "研究人员本月在一份专业期刊上发表了他们的成果。",
    "下一步将是绘制整个北半球的地图。",
    "许多专家仍然保持谨慎，等待更多的观测结果。",
    "从长远来看，航天机构正在考虑派出一个着陆器来研究土壤。",
], english=False, intro_p=0.0)
JA = Grammar(slots={**_CJK_COMMON,
    "BODY": ["火星", "エウロパ", "タイタン", "月", "金星", "ケレス", "エンケラドゥス", "冥王星"],
    "FEAT": ["衝突クレーター", "溶岩チューブ", "砂丘の広がり", "深い谷", "火山の平原", "メタンの湖", "氷の崖"],
    "INSTR": ["赤外線分光計", "地中レーダー", "広角カメラ", "磁力計", "レーザー高度計", "地震計", "質量分析計"],
    "TEAM": ["科学チーム", "管制センター", "研究グループ", "航法チーム"],
    "INST": ["北山天文台", "湖西大学", "惑星科学研究所", "深宇宙探査センター"],
}, frames=[
    "探査機{M}は{BODY}の表面で{FEAT}を発見し、その場所は赤道から約{KM}キロメートル離れている。",
    "{INST}の研究者によると、これらのデータは{BODY}についての理解を大きく変えるという。",
    "{INSTR}を使って、科学者たちは表面の温度を誤差{PCT}パーセントほどで測定した。",
    "この計画は{YEAR}年に打ち上げられ、あと数年は観測を続ける予定だ。",
    "{TEAM}はこの難しい軌道変更の準備に{DAYS}日をかけた。",
    "接近通過のとき、探査機は地表からわずか{KM}キロメートルのところを飛んだ。",
    "写真には、これまで誰も見たことのない細かな様子が写っている。",
    "確かな結論を出すまでには、まだ何か月もの分析が必要になる。",
    "長い極夜の間、そこの気温は{KELVIN}ケルビンをほとんど超えない。",
    "{TEAM}は、次の観測でこの最初の手がかりが確かめられることを期待している。",
    "このようにはっきりした構造を予測した理論モデルはなかった。",
    "{BODY}が天文学者を驚かせたのは、これが初めてではない。",
    "生のデータは来年から一般に公開される。",
    "{BODY}と比べると、研究者たちは大きな違いに気づいた。",
    "専門家は、氷の下の海について語るのはまだ早いと考えている。",
    "探査機には約十台の装置が積まれていて、その中には{INSTR}と{INSTR}もある。",
    "打ち上げ以来、技術者たちは飛行経路を{N2}回修正してきた。",
    "この計画の費用は予定より少なく、宇宙開発の分野では珍しいことだ。",
    "画像では、岩石と氷が重なった層をはっきりと見ることができる。",
    "信号が地球のアンテナに届くまでには数十分かかる。",
    "研究者たちは今月、専門誌に成果を発表した。",
    "次の段階では、北半球全体の地図を作ることになっている。",
    "多くの専門家は慎重な姿勢を崩さず、さらなる観測を待っている。",
    "将来的には、土壌を詳しく調べるために着陸機を送ることも検討されている。",
], english=False, intro_p=0.0)


@dataclass(frozen=True)
class LabelledDoc:
    id: str
    lang: str
    kind: str  # "article" or one of JUNK_KINDS
    text: str

    @property
    def good(self) -> bool:
        return self.kind == "article"


def _grammar(lang: str, rng: random.Random) -> tuple[Grammar, dict]:
    if lang == "en":
        return vocab_astro.GRAMMAR, vocab_astro.make_context(rng)
    if lang in _NO_SPACES:
        return (ZH if lang == "zh" else JA), {}
    grammar = vocab_foreign.LANGS[lang][0]
    return grammar, vocab_foreign.make_context(lang, rng)


def article(lang: str, rng: random.Random) -> str:
    """One good article: 12 to 24 sentences (at most one per frame), 3 to 5 sentences a paragraph."""
    grammar, ctx = _grammar(lang, rng)
    decks = grammar.decks(rng)
    sentences = [grammar.sentence(rng, ctx, decks) for _ in range(min(len(grammar.frames), rng.randint(12, 24)))]
    sep = "" if lang in _NO_SPACES else " "
    paragraphs, i = [], 0
    while i < len(sentences):
        k = rng.randint(3, 5)
        paragraphs.append(sep.join(sentences[i:i + k]))
        i += k
    return "\n".join(paragraphs)


def junk(lang: str, kind: str, rng: random.Random) -> str:
    grammar, ctx = _grammar(lang, rng)
    decks = grammar.decks(rng)
    sep = "" if lang in _NO_SPACES else " "
    if kind == "menu":  # a site's navigation, with one headline in between
        items = rng.sample(_MENU[lang], 10)
        return "\n".join(items[:5] + [grammar.sentence(rng, ctx, decks)] + items[5:])
    if kind == "repeated":  # one paragraph, shown again and again (a broken template)
        paragraph = sep.join(grammar.sentence(rng, ctx, decks) for _ in range(3))
        return "\n".join([paragraph] * rng.randint(4, 7))
    if kind == "stub":  # a sentence or two
        return sep.join(grammar.sentence(rng, ctx, decks) for _ in range(rng.randint(1, 2)))
    raise ValueError(f"unknown junk kind {kind!r}")


def build_set(per_language: int = 40, junk_per_kind: int = 5, seed: int = 20261203,
             languages: tuple[str, ...] = LANGUAGES) -> list[LabelledDoc]:
    """``per_language`` good articles and ``junk_per_kind`` pages of each junk kind, for each language."""
    rng = random.Random(seed)
    docs: list[LabelledDoc] = []
    for lang in languages:
        docs += [LabelledDoc(f"{lang}-article-{i}", lang, "article", article(lang, rng)) for i in range(per_language)]
        for kind in JUNK_KINDS:
            docs += [LabelledDoc(f"{lang}-{kind}-{i}", lang, kind, junk(lang, kind, rng)) for i in range(junk_per_kind)]
    return docs
