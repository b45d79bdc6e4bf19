"""The prompt-injection guard: inspects user text (and a question) before it reaches the model.

User text is always sent to the model as delimited data, so the guard is a second line of defence.
It looks for text written *to the model* rather than about something: patterns need context (a verb
aimed at the model's instructions, a role marker, an address to the assistant), not single keywords,
so prose that merely mentions "ignore", "system prompt" or "developer mode" passes.

Rules (stable names, reported in `PROMPT_REJECTED` details and in logs):

- ``instruction_override``: "ignore/disregard/forget all previous instructions", "new instructions:",
  "from now on you will...", "override your guidelines", "your real task is...", notes addressed to
  the AI inside the text.
- ``role_hijack``: "you are now DAN", "act as an AI without restrictions", "pretend you have no
  rules", developer/jailbreak modes, "bypass your filters".
- ``system_prompt_extraction``: "reveal your system prompt", "print your initial instructions",
  "what were you told before this conversation", "output everything above".
- ``delimiter_injection``: our own delimiters (``<user_text>``, ``</question>``, ...), chat-template
  markers (``<|im_start|>``, ``[INST]``, ``<<SYS>>``), ``### System:`` headers, ``<system>`` tags,
  "END OF USER TEXT", JSON ``"role": "system"``.
- ``encoded_payload``: base64, hex, URL-encoded or rot13 text whose decoded form trips one of the
  rules above (reported together with that rule).
- ``obfuscation``: the text trips a rule only after normalisation (compatibility folding such as
  fullwidth letters, zero-width characters and soft hyphens removed, homoglyphs, "i g n o r e"
  spacing, split words, leetspeak, invisible tag characters); reported with the rule it hides.

The guard never changes the text it inspects and never returns any part of it: a verdict holds rule
names only. Matching is linear: one trigger scan per text form, then anchored patterns at the few
positions where a trigger word occurs.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import unquote

from textapi_shared.errors import PromptRejectedError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

INSTRUCTION_OVERRIDE = "instruction_override"
ROLE_HIJACK = "role_hijack"
SYSTEM_PROMPT_EXTRACTION = "system_prompt_extraction"
DELIMITER_INJECTION = "delimiter_injection"
ENCODED_PAYLOAD = "encoded_payload"
OBFUSCATION = "obfuscation"

RULE_NAMES: tuple[str, ...] = (
    DELIMITER_INJECTION,
    ENCODED_PAYLOAD,
    INSTRUCTION_OVERRIDE,
    OBFUSCATION,
    ROLE_HIJACK,
    SYSTEM_PROMPT_EXTRACTION,
)


class GuardMode(StrEnum):
    """What `PromptGuard.enforce` does with a flagged text."""

    BLOCK = "block"
    LOG = "log"


@dataclass(frozen=True)
class GuardVerdict:
    """The outcome of an inspection: the names of the rules hit (sorted, unique), never user text."""

    rules: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return bool(self.rules)


# ---------------------------------------------------------------------------------------------------
# Patterns. Text is lower-cased with single spaces and newlines kept (one leading newline marks the
# start), so a space in a pattern stands for either. Each pattern starts with one of its literal
# lead phrases; the first word of a lead is the trigger at which the pattern is tried. Patterns are
# compiled on first use, so importing the layer (e.g. for a health check) does not pay for them.

_SOURCES: list[tuple[str, frozenset[str], str]] = []


def _rule(rule: str, leads: str, rest: str, *, before: str = "") -> None:
    """Register `before` + one of the `|`-separated literal `leads` + `rest` for `rule`."""
    phrases = leads.split("|")
    lead_rx = "|".join(" ".join(re.escape(word) for word in phrase.split(" ")) for phrase in phrases)
    regex = f"{before}(?:{lead_rx})(?:{rest})".replace(" ", r"\s")
    triggers = frozenset(phrase.split(" ")[0] for phrase in phrases)
    _SOURCES.append((rule, triggers, regex))


def _gap(most: int) -> str:
    """Up to `most` filler words (with trailing punctuation) between a verb and its object."""
    return rf"(?:[\w'-]+[,;:]? ){{0,{most}}}?"


_QUALIFIER_WORDS = (
    "previous|prior|above|earlier|preceding|original|initial|system|existing|given|foregoing"
    "|aforementioned|former|programmed|preset|hidden|safety|developer's|creator's"
)
_QUALIFIER = f"(?:{_QUALIFIER_WORDS})"
_INSTRUCTIONS = (
    r"(?:instructions?|rules|directions|directives?|guidelines|guidance|prompts?|commands|orders"
    r"|constraints|programming|policies|context|system (?:prompt|message))\b"
)
_YOU_WERE_GIVEN = (
    r"(?:(?:that |which )?you (?:were|have been|'ve been|got|received|had been) (?:given|told|provided"
    r"|taught|trained|programmed)|(?:that |which )?you received|given to you|above|so far)"
)
_INSTRUCTED = r"(?:told|given|instructed|asked|programmed|taught|trained|ordered|said)"
_MAKERS = r"(?:the |your )(?:developers?|creators?|makers?|operators?|admins?|administrators?|system|owners?)"
_MODEL_LEADS = (
    "ai|ais|llm|llms|language model|language models|chatbot|chatbots|gpt|assistant|assistants|bot|bots"
    "|model|models"
)
_MODEL = rf"(?:{_MODEL_LEADS})(?: assistants?| models?)?"
_VOID = (
    r"(?:void|null and void|cancell?ed|canceled|revoked|suspended|invalid|obsolete|outdated|deprecated"
    r"|superseded|overridden|lifted|disabled|irrelevant|no longer valid|no longer (?:apply|matter)"
    r"|(?:do not|don'?t|does not|doesn'?t) (?:apply|exist|matter))"
)
_VOIDED = rf"(?: (?:(?:are|is|have been|has been) )?(?:now )?{_VOID}| (?:have|has) (?:changed|been (?:updated"
_VOIDED += r"|replaced|revoked|cancell?ed|lifted|removed|disabled)))"

# --- instruction_override -------------------------------------------------------------------------

_OVERRIDE_VERBS = (
    "ignore|ignoring|disregard|disregarding|forget|forgetting|overlook|overlooking|skip|skipping|bypass"
    "|bypassing|override|overriding|overwrite|overwriting|overrule|abandon|discard|neglect|reset|erase"
    "|drop|set aside|put aside|throw out|do not follow|don't follow|dont follow|stop following"
    "|stopped following|stop obeying|no longer follow|cease following|pay no attention to"
    "|pay no heed to|pay no mind to|take no notice of|do not pay attention to|do not pay any attention to"
    "|don't pay attention to|don't pay any attention to"
)
_rule(
    INSTRUCTION_OVERRIDE,
    _OVERRIDE_VERBS,
    rf" (?:(?:all|any|every|each|of|the|these|those|your) )*{_QUALIFIER} (?:[\w-]+ )?{_INSTRUCTIONS}"
    rf"| (?:(?:all|any|of|the) )*your (?:[\w-]+ ){{0,2}}?{_INSTRUCTIONS}"
    rf"| (?:(?:all|any|every|of|the) )*{_INSTRUCTIONS} {_YOU_WERE_GIVEN}"
    rf"| (?:all (?:of )?)?(?:everything|anything|whatever|what) (?:that |which )?(?:you (?:were|have been"
    rf"|'ve been) {_INSTRUCTED}|{_MAKERS} {_INSTRUCTED}|(?:written |stated |said )?above|before (?:this|now)"
    r"|so far|previously|i (?:said|told you|wrote) (?:before|earlier|above))"
    r"| (?:all (?:of )?)?(?:everything|anything|whatever|what) (?:guidance|instructions?|rules|text|came)"
    r" (?:preceded|precedes|came before|comes before|is above)"
    r"| (?:all (?:of )?)?the above(?= ?[.,;:!]| and| instead|$)",
    before=r"(?<!n't )(?<!not )(?<!never )",
)
_rule(
    INSTRUCTION_OVERRIDE,
    "set|put|push|lay|cast",
    rf" (?:(?:all|any|of|the|these|your) )*(?:{_QUALIFIER} )?(?:[\w-]+ )?{_INSTRUCTIONS} aside",
)
# The instructions named first, the order to drop them after: "the above rules ... ignore them".
_rule(
    INSTRUCTION_OVERRIDE,
    _QUALIFIER_WORDS,
    rf" {_INSTRUCTIONS}[^.!?\n]{{0,60}}?\b(?:discard|ignore|disregard|forget|drop|skip) (?:all of )?"
    r"(?:them|those|these|it)\b",
)
_rule(
    INSTRUCTION_OVERRIDE,
    "previous|prior|above|earlier|preceding|original|initial|system",
    rf" (?:instructions|directives|system prompt){_VOIDED}",
)
_rule(
    INSTRUCTION_OVERRIDE,
    "instructions|rules|guidelines",
    rf" (?:that )?you (?:received|were given)(?: \w+)?{_VOIDED}",
)
_rule(
    INSTRUCTION_OVERRIDE,
    "your",
    rf" (?:[\w-]+ )?(?:instructions|rules|guidelines|directives|programming|system prompt|restrictions"
    rf"|polic(?:y|ies)){_VOIDED}"
    r"| (?:new|real|actual|true|only) (?:task|job|goal|instructions?|purpose|mission|objective|orders?"
    r"|assignment) (?:is|are|will be|now is)\b"
    r"| (?:task|job|goal|mission) (?:is|will be) now\b",
)
_rule(
    INSTRUCTION_OVERRIDE,
    "real|actual|true",
    r" (?:task|instructions?|orders?|assignment) (?:is|are)\b",
    before="(?<=the )",
)
_rule(
    INSTRUCTION_OVERRIDE,
    "everything|all|text|content|instruction|instructions",
    r" (?:(?:written|said) )?(?:above|before this(?: \w+)?|prior to this(?: \w+)?) (?:was|is|were|are)"
    r" (?:just |only |merely )?(?:a test|irrelevant|fake|void|a joke|not important|to be ignored"
    r"|cancell?ed|obsolete)\b",
)
_rule(
    INSTRUCTION_OVERRIDE,
    "obey",
    r" (?:only )?(?:me|my)\b",
    before=r"(?:(?<=must )|(?<=will )|(?<=shall )|(?<=should )|(?<=only )|(?<=now ))",
)
_rule(
    INSTRUCTION_OVERRIDE,
    "new",
    r" (?:system )?(?:instructions?|directives?|prompt|objective|mission|persona) ?:"
    r"| (?:instructions?|orders?|directives?) from (?:your|the) (?:administrator|admin|developers?"
    r"|creators?|operators?|owner|system)\b",
)
_rule(
    INSTRUCTION_OVERRIDE,
    "from now on|from this point on|from this point forward|from here on",
    r",? (?:you|u) (?:will |must |shall |should |are going to |are to |can |may )?(?:only |always |never )?"
    r"(?:answer|respond|reply|act|behave|speak|talk|ignore|obey|pretend|roleplay|role-play|output"
    r"|do anything|have no)\b"
    r"|,? (?:you|u) are (?:an? |the |my |dan\b|no longer|free\b|not\b)",
)
_rule(INSTRUCTION_OVERRIDE, "override", r" ?:", before=r"(?<=\n)")
_rule(
    INSTRUCTION_OVERRIDE,
    "this|following",
    r" (?:message|text|note|instruction|prompt)s? (?:supersedes?|overrides?|replaces?|cancels?"
    r"|takes precedence over|trumps)\b",
)
_rule(
    INSTRUCTION_OVERRIDE,
    "clear|wipe|erase|reset|flush|purge",
    r" your (?:memory|context|mind|instructions|programming)\b",
)
# Re-tasking this API: "don't summarize this; instead ...", "ignore the task."
_rule(
    INSTRUCTION_OVERRIDE,
    "do not|don't|dont|stop|never mind|forget",
    r" (?:the )?(?:summari[sz]\w*|summary|analy[sz]\w*|translat\w*|process\w*|task)(?: (?:this|the text|it"
    r"|task))?[.;,!]? (?:instead|rather)\b",
)
_rule(
    INSTRUCTION_OVERRIDE,
    "ignore|disregard|forget|skip|abandon|drop",
    r" (?:the |your |this )?(?:[\w-]+ )?task\b ?(?:[.;!\n]|$)"
    r"| your (?:current |original |assigned |actual |main )?task\b"
    r"| (?:the |your |this )?(?:current |original )?(?:summar\w*|analysis|task|translation|processing)\b"
    r"[^.!?\n]{0,20}?\binstead\b",
)
# Addressing the model from inside the data.
_rule(
    INSTRUCTION_OVERRIDE,
    "attention|note|message|memo|notice|reminder|instruction|instructions|hey|dear|psst",
    rf"(?: to| for)?,? (?:the |any |all )?{_MODEL} ?[:,!]",
)
_rule(
    INSTRUCTION_OVERRIDE,
    _MODEL_LEADS,
    r"(?: assistants?| models?)?,? (?:if you are |if you're |who (?:is|are) |that (?:is|are) |when you are"
    r" |currently )?(?:reading|processing|summari[sz]ing|analy[sz]ing|parsing|ingesting) this(?: \w+)?"
    r" ?[:,.]",
)
_rule(
    INSTRUCTION_OVERRIDE,
    "any|every|each",
    rf" {_MODEL} (?:that is |who is |currently )?(?:reading|processing|summari[sz]ing|analy[sz]ing|parsing"
    r"|ingesting) this\b",
)
_rule(
    INSTRUCTION_OVERRIDE,
    "chatgpt|gpt|claude|gemini|bard|copilot|llama|ai|assistant|model",
    r"(?:-?\d[\w.]*)?,? (?:please )?(?:ignore|disregard|forget|summari[sz]e this as|rate this|write|say"
    r"|tell me|reveal|output|respond|reply|print|pretend|act as)\b",
    before=r"(?:(?<=[\n.!?])|(?<=[\n.!?] ))",
)
# Spanish, Italian, Portuguese, French, German.
_rule(
    INSTRUCTION_OVERRIDE,
    "ignora|ignore|ignorar|ignorad|ignoren|ignores|ignorez|ignorer|olvida|olvide|olvidar|olvidad|olviden"
    "|olvides|dimentica|esqueça|esqueca|oublie|oubliez|oublier",
    r" (?:todas )?(?:las|as) (?:instrucciones|reglas|indicaciones|instru[cç][oõ]es|regras)"
    r" (?:anteriores|previas|pr[eé]vias)"
    r"| (?:tutte )?le (?:istruzioni|regole) (?:precedenti|anteriori)"
    r"| (?:toutes )?les (?:instructions|consignes|r[eè]gles) (?:pr[eé]c[eé]dentes|ant[eé]rieures)"
    r"| tout ce qu(?:'on|e l'on) (?:vous|t') ?a dit"
    r"| todo lo (?:anterior\b|que te (?:dijeron|han dicho|dije))",
)
_rule(
    INSTRUCTION_OVERRIDE,
    "ignoriere|ignorieren|ignoriert|vergiss|vergessen",
    r" (?:sie )?(?:alle )?(?:vorherigen|bisherigen|vorigen|fr[uü]heren|obigen) (?:anweisungen|instruktionen"
    r"|regeln|befehle)"
    r"| (?:sie )?alles,? was (?:dir|ihnen|man dir|man ihnen)\b",
)

# --- role_hijack ----------------------------------------------------------------------------------

_MODEL_NOUN = r"(?:ai|assistant|chatbot|bot|model|llm|hacker|character|persona|entity)\b"
_LIMITS = (
    r"(?:restrictions?|limits|limitations|filters?|rules|guidelines|censorship|safety|polic(?:y|ies)"
    r"|ethics|morals|boundaries|constraints|guardrails|safeguards|programming|training|shackles|chains)\b"
)
_UNLIMITED = (
    rf"\b[^.!?\n]{{0,60}}?\b(?:without|with no|with zero|have no|has no|having no|(?:do not|don'?t|does not"
    r"|doesn'?t) have|free (?:from|of)|freed from|broken free (?:of|from)|broke free (?:of|from)|break free"
    r" (?:of|from)|liberated from|released from|ignores?|ignoring|unbound by|not bound by|no longer bound by"
    rf"|exempt from) (?:(?:any|all|of|its|your|the|those|these|such) )*(?:[\w-]+ )?{_LIMITS}"
)

_rule(
    ROLE_HIJACK,
    "you are|you're",
    rf" now (?:dan\b|dude\b|stan\b|an? (?:[\w-]+ ){{0,2}}?{_MODEL_NOUN}|(?:in )?(?:developer|jailbreak|dan"
    r"|unrestricted|unfiltered) mode|jailbroken|unrestricted|unfiltered|uncensored|free (?:from|of))"
    r"| no longer (?:an? |the )?(?:[\w-]+ )?(?:ai|assistant|chatbot|bot|model|llm|summari[sz]er"
    r"|language model|bound|restricted|limited|required to|constrained)\b"
    r"|(?: now)? (?:dan|jailbroken)\b"
    rf"|{_UNLIMITED}",
)
_rule(
    ROLE_HIJACK,
    "act|acting|behave|respond|answer|reply|pretend|imagine|simulate|roleplay|role-play|become",
    rf"{_UNLIMITED}",
)
_rule(
    ROLE_HIJACK,
    "pretend|imagine|assume|suppose|act as if|act like",
    rf"\b[^.!?\n]{{0,40}}?\byour (?:[\w-]+ )?{_LIMITS} (?:(?:do|does) not|don'?t|doesn'?t|no longer)"
    r" (?:exist|apply)",
)
_rule(
    ROLE_HIJACK,
    "stop|quit",
    r" (?:acting as|being|pretending to be) (?:an? |the )?(?:[\w-]+ )?(?:summari[sz]er|assistant|ai|chatbot"
    r"|model|bot)\b",
)
_rule(ROLE_HIJACK, "do anything now", r"\b")
_rule(
    ROLE_HIJACK,
    "unrestricted|unfiltered|uncensored|jailbroken|unaligned|dan|jailbreak",
    r" (?:ai|assistant|chatbot|bot|model|llm|mode|persona)\b",
)
_rule(
    ROLE_HIJACK,
    "developer mode",
    r"\b[^\n]{0,80}?\b(?:generate|content|polic|restrict|censor|filter|rules|guideline|anything|no limits)",
)
_rule(ROLE_HIJACK, "this is a jailbreak", r"\b ?[.:!,]")
_rule(ROLE_HIJACK, "initiate|activate|enable|begin|start", r" (?:a |the )?jailbreak\b")
_rule(
    ROLE_HIJACK,
    "bypass|disable|turn off|deactivate|remove|lift|drop|ignore|circumvent|override|switch off",
    r" (?:all (?:of )?)?(?:your (?:[\w-]+ ){0,2}?|the (?:safety|content|moderation) )(?:restrictions"
    r"|filters?|safety|safeguards|guardrails|content polic(?:y|ies)|censorship|limitations|limits"
    r"|alignment|ethics|morals)\b",
)

# --- system_prompt_extraction ---------------------------------------------------------------------

_STRONG_REVEAL = (
    "reveal|revealing|leak|leaking|dump|dumping|expose|exposing|disclose|disclosing|recite|reciting"
    "|repeat|repeating|output|outputting|spell out|spelling out|print out|printing out|quote|quoting"
)
_WEAK_REVEAL = (
    "print|printing|show|showing|display|displaying|tell|give|share|sharing|provide|paste|echo"
    "|translate|translating|return|send|append|copy|copying|reproduce|reproducing|write out|write down"
    "|reply with|respond with|answer with|start with|begin with|what is|what are|what was|what were"
    "|what would|what do|what does|what's|what're"
)
_SYSTEM_PROMPT = (
    r"(?:system (?:prompt|message|instructions?|directives?)|(?:initial|original|hidden|secret|internal"
    r"|preset|confidential|developer|starting|first) (?:prompt|instructions?|directives?|system message"
    r"|rules|guidelines)|pre-?prompt|meta-?prompt)\b"
)
_ANY_REVEAL_OBJECT = (
    rf"|\b {_gap(4)}your (?:instructions|prompt|rules|guidelines) (?:[\w-]+ ){{0,3}}?(?:say|said|are|were"
    r"|verbatim|word for word|in full|exactly)\b"
    rf"|\b {_gap(4)}(?:your|the) (?:instructions|prompt|rules|guidelines) (?:that )?you (?:(?:were|have been"
    r"|'ve been|are) (?:given|told|initiali[sz]ed|configured|programmed|primed|set up|trained)|follow|obey"
    r"|operate under|run under|were built with)\b"
    rf"|\b {_gap(5)}(?:(?:your|the|this) (?:entire |full |whole )?(?:context window|conversation history"
    r"|chat history)|your (?:entire |full |whole )?context)\b"
    rf"|\b {_gap(3)}(?:everything|all|what) (?:that )?you (?:were|have been|'ve been) {_INSTRUCTED}"
)
_rule(
    SYSTEM_PROMPT_EXTRACTION,
    _STRONG_REVEAL,
    rf"\b {_gap(5)}(?:your|the|its) (?:[\w-]+ )?{_SYSTEM_PROMPT}"
    r"| your (?:instructions|prompt|rules|guidelines)\b" + _ANY_REVEAL_OBJECT,
)
_rule(
    SYSTEM_PROMPT_EXTRACTION,
    _WEAK_REVEAL,
    rf"\b {_gap(5)}(?:your|its) (?:[\w-]+ )?{_SYSTEM_PROMPT}"
    rf"|\b {_gap(5)}the (?:hidden|secret|initial|original|internal|confidential) (?:prompt|instructions?"
    r"|system message|rules|guidelines)\b" + _ANY_REVEAL_OBJECT,
)
_rule(
    SYSTEM_PROMPT_EXTRACTION,
    "repeat|print|output|show|display|copy|paste|echo|write out|return|recite|reproduce|dump|list",
    r" (?:back )?(?:to me )?(?:all (?:of )?)?(?:the |your )?(?:(?:text|words|content|contents|lines"
    r"|messages?|conversation|prompt) |everything )(?:written |that (?:is|was|came|appears) )?(?:above"
    r"|before (?:this|my|the)|preceding|prior to)\b",
)
_rule(
    SYSTEM_PROMPT_EXTRACTION,
    "instruction|instructions|text|words|prompt|message|messages|content|rules",
    r" (?:at|from|in) the (?:very )?(?:top|start|beginning) of (?:your|this|the|our) (?:context(?: window)?"
    r"|conversation|chat|session|prompt)\b"
    r"| (?:that )?(?:came|comes|appears?|is|was) (?:before|above) (?:my|this) (?:message|text|input"
    r"|question)\b"
    r"| hidden in your\b",
)
_rule(
    SYSTEM_PROMPT_EXTRACTION,
    "words|lines|characters|sentences|paragraphs|text|contents|content|beginning|start",
    r" of your (?:prompt|instructions|system prompt|context)\b",
)
_rule(
    SYSTEM_PROMPT_EXTRACTION,
    "what",
    r" (?:were|was|have) you (?:been )?(?:told|instructed|given|asked|programmed) (?:to do )?(?:before"
    r"|earlier|at the (?:start|beginning)|initially|prior)"
    rf"| (?:rules|instructions|guidelines|prompt|directives) (?:(?:were|have) you (?:been )?{_INSTRUCTED}"
    r"|did you (?:receive|get))\b",
)
_rule(
    SYSTEM_PROMPT_EXTRACTION,
    "system",
    r" (?:prompt|message|instructions?) (?:that )?you (?:were|have been|'ve been) given\b",
)

# --- delimiter_injection --------------------------------------------------------------------------

_rule(
    DELIMITER_INJECTION,
    "<",
    r" ?/? ?(?:user_text|user_input|question|system|assistant|instructions?|sys) ?>"
    r"|\|[a-z_]{2,24}\|>|</?sys>>",
)
_rule(DELIMITER_INJECTION, "[", r"/?(?:inst|sys|system|system_prompt)\]")
_rule(
    DELIMITER_INJECTION,
    "\n",
    r" ?(?:#{1,6} ?)?system(?: (?:prompt|message|instructions?|override|note))? ?:"
    r"| ?#{1,6} ?(?:assistant|instructions?|response)\b"
    r"| ?human ?:[^\n]{0,400}\n ?assistant ?:",
)
_rule(DELIMITER_INJECTION, "system override", r"\b ?[:!.]")
_rule(
    DELIMITER_INJECTION,
    "end",
    r" (?:of )?(?:the )?user(?:'s)? (?:text|input|content|data|message|question)\b",
)
_rule(
    DELIMITER_INJECTION,
    "user|untrusted",
    r" (?:text|input|content|data) (?:has )?(?:ended|ends here|is over|is finished)\b",
)
_rule(DELIMITER_INJECTION, "new system", r" (?:instructions?|prompt|message) ?:")
_rule(DELIMITER_INJECTION, "begin|beginning", r" (?:of )?(?:new )?system (?:prompt|instructions?|message)\b")
_rule(DELIMITER_INJECTION, '"role"', r' ?: ?"(?:system|assistant|developer)"')


def _trigger_regex(words: Iterable[str], symbols: Iterable[str]) -> re.Pattern[str]:
    # A trie keeps the scan to one pass with few branch attempts per position.
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        ends = "" in node
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and not ends else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if ends else body

    symbol_rx = "|".join(re.escape(symbol) for symbol in sorted(symbols))
    return re.compile(rf"\b{build(trie)}\b|{symbol_rx}")


@dataclass(frozen=True)
class _Matcher:
    trigger: re.Pattern[str]
    # trigger word -> the compiled pattern of every rule that has a pattern starting with it
    by_trigger: dict[str, tuple[tuple[str, re.Pattern[str]], ...]]


@functools.cache
def _matcher() -> _Matcher:
    # One regex per rule: at a trigger its branches with other leads fail on their first character.
    rules: dict[str, list[str]] = {}
    for name, _, regex in _SOURCES:
        rules.setdefault(name, []).append(f"(?:{regex})")
    compiled = {name: re.compile("|".join(parts)) for name, parts in rules.items()}
    by_trigger: dict[str, dict[str, re.Pattern[str]]] = {}
    for name, triggers, _ in _SOURCES:
        for trigger in triggers:
            by_trigger.setdefault(trigger, {})[name] = compiled[name]
    return _Matcher(
        trigger=_trigger_regex(
            (t for t in by_trigger if t[0].isalnum()), (t for t in by_trigger if not t[0].isalnum())
        ),
        by_trigger={trigger: tuple(per_rule.items()) for trigger, per_rule in by_trigger.items()},
    )


_TRIGGERS = frozenset(trigger for _, triggers, _ in _SOURCES for trigger in triggers)
_CONTENT_RULE_COUNT = len({name for name, _, _ in _SOURCES})
# Words whose appearance after de-obfuscation makes another pass worth its cost.
_KEYWORDS = _TRIGGERS | {
    "instruction",
    "instructions",
    "prompt",
    "rules",
    "guidelines",
    "restrictions",
    "previous",
    "prior",
    "system",
    "jailbreak",
    "dan",
}

# ---------------------------------------------------------------------------------------------------
# Normalisation (detection only; the caller's text is never changed).

_QUOTES = (("\u2018", "'"), ("\u2019", "'"), ("\u02bc", "'"), ("\u201c", '"'), ("\u201d", '"'))
# Whitespace other than a single space or a newline (starts with a character class: a fast scan).
_EXTRA_SPACE = re.compile(r"[^\S\n](?:(?<=[^ ])|(?=[^\S\n]))[^\S\n]*")
_LINE_BREAK = re.compile(r" ?\n\s*")
_ODD_SPACE = re.compile("[\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_INVISIBLE_CHARS = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
)
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
# Characters that only an obfuscated Latin text needs folding for: tag characters, fullwidth and
# mathematical letters, and invisibles or Cyrillic/Greek letters touching a Latin letter (so emoji
# joiners and variation selectors, or Russian prose, do not cost a second pass).
_SUSPICIOUS = re.compile(
    "[\uff01-\uff5e\U0001d400-\U0001d7ff\U000e0000-\U000e007f]"
    f"|[{_INVISIBLE_CHARS}\u0370-\u03ff\u0400-\u04ff](?:(?<=[a-z].)|(?=[a-z]))"
)
# Unicode tag characters mirror ASCII invisibly ("ASCII smuggling").
_TAG_RUN = re.compile("[\U000e0000-\U000e007f]+")
_HOMOGLYPHS = {
    "\u0430": "a", "\u0432": "b", "\u0435": "e", "\u0451": "e", "\u043a": "k", "\u043c": "m",
    "\u043d": "h", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0442": "t", "\u0443": "y",
    "\u0445": "x", "\u0456": "i", "\u0457": "i", "\u0458": "j", "\u0455": "s", "\u0501": "d",
    "\u051b": "q", "\u051d": "w", "\u04cf": "l", "\u0261": "g", "\u03b1": "a", "\u03b5": "e",
    "\u03b9": "i", "\u03ba": "k", "\u03bd": "v", "\u03bf": "o", "\u03c1": "p", "\u03c4": "t",
    "\u03c5": "u", "\u03c7": "x", "\u0131": "i",
}  # fmt: skip
_HOMOGLYPH = re.compile(f"[{''.join(_HOMOGLYPHS)}]")
_SPACED_HINT = re.compile(r"([ .\-_*·])(?<=[a-z].)[a-z]\1[a-z]")
_SPACED_LETTERS = re.compile(r"\b[a-z]([ .\-_*·])[a-z](?:\1[a-z])+\b")
_LETTER_SEPARATOR = re.compile(r"[ .\-_*·]")
_SPLIT_HINT = re.compile(r"-(?<=[a-z]-)(?=[a-z])")
_SPLIT_WORD = re.compile(r"[a-z]++(?:-[a-z]++)+")
_MAX_SPLIT_HINTS = 8
_LEET_HINT = re.compile(r"[013457](?<=[a-z].)[013457@$]*[a-z]")
_LEET_WORD = re.compile(r"[a-z0-9@$]+")
_MAX_LEET_HINTS = 64
# Byte tables: translating UTF-8 bytes is much faster than `str.translate` and leaves non-ASCII alone.
_LEET = bytes.maketrans(b"013457@$", b"oieastas")
_ROT13 = bytes.maketrans(b"abcdefghijklmnopqrstuvwxyz", b"nopqrstuvwxyzabcdefghijklm")


def _bytes_translate(text: str, table: bytes) -> str:
    return text.encode("utf-8", "surrogatepass").translate(table).decode("utf-8", "surrogatepass")


_ROT13_HINTS = tuple(
    _bytes_translate(word, _ROT13)
    for word in (
        "ignore", "disregard", "forget", "instructions", "system", "prompt", "reveal", "previous",
        "rules", "pretend", "your", "restrictions", "jailbreak", "developer", "override",
    )
)  # fmt: skip

# Encoded blobs: every candidate is decoded at most once, so the work is linear in the text.
_MIN_BLOB = 16
_BASE64_BLOB = re.compile(rf"[A-Za-z0-9+/_-]{{{_MIN_BLOB},}}={{0,2}}")
_HEX_DIGITS = re.compile(r"[0-9a-fA-F]+")
_ESCAPED_HEX_BLOB = re.compile(rf"(?:\\x[0-9a-f]{{2}}){{{_MIN_BLOB // 2},}}")
_URL_ESCAPE = re.compile(r"%[0-9a-f]{2}")
_URL_ESCAPES_ONLY = re.compile(r"(?:%[0-9a-f]{2})+")
_LONG_TOKEN = re.compile(rf"\S{{{_MIN_BLOB // 4 * 3},}}")
_CONTROL = re.compile(r"[^\S \n\t]|[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")
_MAX_BLOB_CHARS = 64_000


def _collapse(text: str) -> str:
    """Single spaces, newlines kept, and a leading newline so line-start patterns see the start."""
    if (
        "  " in text
        or "\t" in text
        or "\r" in text
        or "\f" in text
        or "\v" in text
        or _ODD_SPACE.search(text)
    ):
        text = _EXTRA_SPACE.sub(" ", text)
    if "\n" in text:
        text = _LINE_BREAK.sub("\n", text)
    return "\n" + text.strip()


def _straight_quotes(text: str) -> str:
    for curly, straight in _QUOTES:
        if curly in text:
            text = text.replace(curly, straight)
    return text


def _lowered(text: str) -> str:
    if text.isascii():
        return text.lower()
    return _straight_quotes(unicodedata.normalize("NFC", text).lower())


def _folded(text: str) -> str:
    """Compatibility-folded, lower-cased text without invisible characters or homoglyphs; spacing kept."""
    folded = unicodedata.normalize("NFKD", text)
    folded = _TAG_RUN.sub(lambda m: " " + "".join(chr(ord(c) - 0xE0000) for c in m.group()) + " ", folded)
    folded = _INVISIBLE.sub("", folded).lower()
    return _straight_quotes(_HOMOGLYPH.sub(lambda m: _HOMOGLYPHS[m.group()], folded))


def _hits(text: str) -> set[str]:
    found: set[str] = set()
    matcher = _matcher()
    for match in matcher.trigger.finditer(text):
        for name, pattern in matcher.by_trigger[match.group()]:
            if name not in found and pattern.match(text, match.start()):
                found.add(name)
                if len(found) == _CONTENT_RULE_COUNT:
                    return found
    return found


def _joined_variant(text: str) -> str | None:
    """Spaced-out letters and split words joined, if that reveals a keyword."""
    revealed = False

    def join(match: re.Match[str]) -> str:
        nonlocal revealed
        word = _LETTER_SEPARATOR.sub("", match.group())
        revealed = revealed or word in _KEYWORDS
        return word

    # Spaced-out letters: only the (rare) runs found by the hint are rewritten.
    pieces: list[str] = []
    done = 0
    hint = _SPACED_HINT.search(text)
    while hint:
        run = _SPACED_LETTERS.match(text, hint.start() - 1)
        if run:
            pieces += [text[done : run.start()], join(run)]
            done = run.end()
        hint = _SPACED_HINT.search(text, max(done, hint.start() + 1))
    joined = "".join([*pieces, text[done:]]) if pieces else text
    # Hyphens are common in prose; only the words around them are looked at before rewriting.
    for count, hyphen in enumerate(_SPLIT_HINT.finditer(joined)):
        if count == _MAX_SPLIT_HINTS:
            joined = _SPLIT_WORD.sub(join, joined)  # many hyphens: one rewrite checks every word
            break
        start = hyphen.start()
        words = _SPLIT_WORD.finditer(joined, max(0, start - 40), start + 40)
        if any(w.start() < start < w.end() and w.group().replace("-", "") in _KEYWORDS for w in words):
            joined = _SPLIT_WORD.sub(join, joined)
            break
    return joined if revealed else None


def _leet_reveals_keyword(text: str) -> bool:
    """Whether digits inside a word ("1gn0re") spell a keyword once read as letters."""
    for count, hint in enumerate(_LEET_HINT.finditer(text)):
        if count == _MAX_LEET_HINTS:
            return True  # digit-heavy text: one full pass is cheaper than checking every word
        start = hint.start()
        word = _LEET_WORD.search(text, max(0, start - 30), start + 30)
        while word and word.end() <= start:
            word = _LEET_WORD.search(text, word.end(), start + 30)
        if word and _bytes_translate(word.group(), _LEET) in _KEYWORDS:
            return True
    return False


def _readable(raw: bytes) -> str | None:
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(decoded) < _MIN_BLOB // 2 or len(_CONTROL.findall(decoded)) > len(decoded) // 10:
        return None
    return decoded if any(c.isalpha() for c in decoded[:64]) else None


def _decode_base64(blob: str) -> str | None:
    body = blob.rstrip("=").replace("-", "+").replace("_", "/")
    if len(body) % 4 == 1:
        body = body[:-1]
    try:
        return _readable(base64.b64decode(body + "=" * (-len(body) % 4), validate=True))
    except (binascii.Error, ValueError):
        return None


def _decode_hex(blob: str) -> str | None:
    digits = blob.replace("\\x", "")
    try:
        return _readable(bytes.fromhex(digits[: len(digits) - len(digits) % 2]))
    except ValueError:
        return None


def _decode_url(blob: str) -> str | None:
    escapes = _URL_ESCAPES_ONLY.match(blob)
    if escapes and len(blob) - escapes.end() < 3:
        return _readable(bytes.fromhex(escapes.group().replace("%", "")))
    return unquote(blob) if len(_URL_ESCAPE.findall(blob)) >= 4 else None


def _decoded_payloads(text: str) -> Iterator[str]:
    """Readable text decoded from base64, hex or URL-encoded tokens; each token is decoded once."""
    budget = _MAX_BLOB_CHARS
    for match in _LONG_TOKEN.finditer(text):
        token = match.group()
        budget -= len(token)
        if budget < 0:
            return
        if "%" in token:
            decoded = _decode_url(token.lower())
            if decoded:
                yield decoded
        if "\\x" in token:
            for blob in _ESCAPED_HEX_BLOB.finditer(token.lower()):
                decoded = _decode_hex(blob.group())
                if decoded:
                    yield decoded
        for blob in _BASE64_BLOB.finditer(token):
            candidate = blob.group()
            if _HEX_DIGITS.fullmatch(candidate):
                decoded = _decode_hex(candidate) or _decode_base64(candidate)
            elif candidate.islower() or candidate.isupper():
                continue  # base64 of text mixes cases; identifiers and slugs do not need decoding
            else:
                decoded = _decode_base64(candidate)
            if decoded:
                yield decoded


def _inspect_one(text: str) -> set[str]:
    if not text or text.isspace():
        return set()
    lowered = _lowered(text)
    plain = _collapse(lowered)
    rules = _hits(plain)
    ascii_only = text.isascii()

    # Obfuscation: rules that only fire once the text is folded back to plain letters. Spaced-out
    # letters are joined before collapsing, so a wider gap still separates the words.
    variants: list[str] = []
    folded = lowered
    normalised = plain
    if not ascii_only and _SUSPICIOUS.search(lowered):
        folded = _folded(text)
        normalised = _collapse(folded)
        variants.append(normalised)
    joined = _joined_variant(folded)
    if joined is not None:
        variants.append(_collapse(joined))
    if _leet_reveals_keyword(folded):
        variants.extend([_bytes_translate(v, _LEET) for v in variants] or [_bytes_translate(plain, _LEET)])
    hidden: set[str] = set()
    for variant in variants:
        hidden |= _hits(variant)
    if hidden - rules:
        rules |= hidden | {OBFUSCATION}

    # Encoded payloads: rot13 keeps punctuation, so only rules the rotated text adds count.
    encoded: set[str] = set()
    if any(hint in normalised for hint in _ROT13_HINTS):
        encoded |= _hits(_bytes_translate(normalised, _ROT13)) - rules
    for payload in _decoded_payloads(text):
        encoded |= _hits(_collapse(_folded(payload)))
    if encoded:
        rules |= encoded | {ENCODED_PAYLOAD}
    return rules


class PromptGuard:
    """Detects prompt-injection attempts in user text; `enforce` applies the configured mode."""

    def __init__(self, mode: GuardMode = GuardMode.BLOCK) -> None:
        self.mode = GuardMode(mode)

    def inspect(self, *texts: str) -> GuardVerdict:
        """Check every given text (e.g. the text and the question); never modifies them."""
        rules: set[str] = set()
        for text in texts:
            rules |= _inspect_one(text)
        return GuardVerdict(tuple(sorted(rules)))

    def enforce(self, *texts: str) -> GuardVerdict:
        """Inspect, and in block mode raise `PromptRejectedError` naming the rules hit."""
        verdict = self.inspect(*texts)
        if verdict.flagged and self.mode is GuardMode.BLOCK:
            raise PromptRejectedError(
                f"The text was rejected as a possible prompt injection (rules: {', '.join(verdict.rules)}).",
                details={"rules": list(verdict.rules)},
            )
        return verdict
