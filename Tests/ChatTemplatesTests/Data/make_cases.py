#!/usr/bin/env python3
"""Writes cases.json: templates + contexts rendered by Python jinja2 the way transformers does
(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, raise_exception, json.dumps tojson).
Run from this directory: python3 make_cases.py"""
import json
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.exceptions import TemplateError
from jinja2.ext import loopcontrols


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception

CHATML_TOOLS = """{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0].role == 'system' %}
        {{- messages[0].content + '\\n\\n' }}
    {%- else %}
        {{- 'You are a helpful assistant.\\n\\n' }}
    {%- endif %}
    {{- "# Tools\\n\\nYou may call functions. Signatures:\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools>\\n\\nReply with <tool_call>{\\"name\\": ..., \\"arguments\\": ...}</tool_call><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0].role == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- message.content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""

LLAMA3 = """{{- bos_token }}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{%- if tools is not none and tools is defined %}
    {{- "Functions available (JSON):\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}
{%- for message in messages %}
    {%- if message.role in ['ipython', 'tool'] %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}
        {%- if message.content is mapping or message.content is iterable and message.content is not string %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- else %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
"""

MISTRAL = """{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
"""

NAMESPACE = """{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1, found=false) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if message.role == "assistant" %}
        {%- set content = message.content %}
        {%- set reasoning_content = '' %}
        {%- if '</think>' in content %}
            {%- set reasoning_content = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}
            {%- set content = content.split('</think>')[-1].lstrip('\\n') %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index and reasoning_content %}
            {{- '<|im_start|>assistant\\n<think>\\n' + reasoning_content.strip('\\n') + '\\n</think>\\n\\n' + content.lstrip('\\n') + '<|im_end|>\\n' }}
        {%- else %}
            {{- '<|im_start|>assistant\\n' + content + '<|im_end|>\\n' }}
        {%- endif %}
    {%- else %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\\n\\n</think>\\n\\n' }}
    {%- endif %}
{%- endif %}
"""

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
     "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"},
                                                     "days": {"type": "integer"}}, "required": ["city"]}}},
    {"type": "function", "function": {"name": "add", "description": "Adds numbers \u00e9\u4e2d",
     "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number", "default": 1.5}}}}},
]

CHAT = [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "  Hello! How can I help?  "},
        {"role": "user", "content": "Tell me a joke."}]
SYS_CHAT = [{"role": "system", "content": "You are terse."}] + CHAT
TOOL_CHAT = [
    {"role": "system", "content": "Use tools when needed."},
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}}]},
    {"role": "tool", "content": "{\"temp\": 21}"},
    {"role": "tool", "content": "sunny"},
    {"role": "user", "content": "Thanks"},
]
THINK_CHAT = [
    {"role": "user", "content": "2+2?"},
    {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4"},
    {"role": "user", "content": "<tool_response>x</tool_response>"},
    {"role": "assistant", "content": "<think>\nagain\n</think>\nStill 4"},
]
BASE = {"bos_token": "<s>", "eos_token": "</s>"}

cases = []


def add(name, template, context, **extra):
    ctx = dict(BASE)
    ctx.update(context)
    case = {"name": name, "template": template, "context": ctx}
    try:
        case["expected"] = env.from_string(template).render(**ctx)
    except TemplateError as error:
        case["error"] = str(error)
    cases.append(case)


for gen in (False, True):
    add(f"chatml-tools-gen{int(gen)}", CHATML_TOOLS, {"messages": TOOL_CHAT, "tools": TOOLS, "add_generation_prompt": gen})
    add(f"chatml-plain-gen{int(gen)}", CHATML_TOOLS, {"messages": CHAT, "add_generation_prompt": gen})
    add(f"chatml-system-gen{int(gen)}", CHATML_TOOLS, {"messages": SYS_CHAT, "add_generation_prompt": gen})
    add(f"llama3-gen{int(gen)}", LLAMA3, {"messages": SYS_CHAT, "add_generation_prompt": gen, "bos_token": "<|begin_of_text|>"})
    add(f"namespace-gen{int(gen)}", NAMESPACE, {"messages": THINK_CHAT, "add_generation_prompt": gen})
add("llama3-tools", LLAMA3, {"messages": CHAT + [{"role": "tool", "content": {"ok": True, "n": None}}],
                             "tools": TOOLS, "add_generation_prompt": True, "date_string": "01 Jan 2025"})
add("mistral-system", MISTRAL, {"messages": SYS_CHAT})
add("mistral-plain", MISTRAL, {"messages": CHAT})
add("mistral-bad-order", MISTRAL, {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]})
add("mistral-bad-role", MISTRAL, {"messages": [{"role": "tool", "content": "a"}]})
add("namespace-no-thinking", NAMESPACE, {"messages": CHAT, "add_generation_prompt": True, "enable_thinking": False})

FEATURES = {
    "whitespace": "a  {%- if true -%}  b  {%- endif -%}  c\n  {% if true %}\n    x\n  {% endif %}\n{{- ' y ' -}}\n z {# note #}\nw\n  {%+ if true %}k{% endif %}",
    "loop-vars": "{% for x in items %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.length }}/{{ loop.first }}/{{ loop.last }}/{{ loop.revindex }}/{{ loop.previtem }}|{% endfor %}",
    "loop-else-filter": "{% for x in items if x > 2 %}{{ x }}{% else %}none{% endfor %};{% for x in [] %}a{% else %}empty{% endfor %}",
    "loop-controls": "{% for x in items %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}",
    "unpack": "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k, v in d|items %}[{{ k }}]{% endfor %}",
    "scoping": "{% set x = 1 %}{% for i in items %}{% set x = i %}{% endfor %}{{ x }}{% if true %}{% set y = 5 %}{% endif %}{{ y }}",
    "slices": "{{ items[1:] }}{{ items[::-1] }}{{ items[:-1] }}{{ items[-2] }}{{ 'hello'[1:3] }}{{ 'abc'[::-1] }}{{ items[1::2] }}",
    "arithmetic": "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }} {{ 1.5 + 1 }} {{ 4 / 2 }} {{ 'ab' * 3 }}",
    "comparisons": "{{ 1 < 2 < 3 }} {{ 'a' in 'cat' }} {{ 3 not in [1,2] }} {{ 1 == 1.0 }} {{ 'b' > 'a' }} {{ none is none }} {{ x is defined }} {{ items is not string }}",
    "logic": "{{ 0 or 'x' }} {{ 1 and 'y' }} {{ not [] }} {{ 'a' if false else 'b' }} {{ 'a' if false }}| {{ none }} {{ true }} {{ [1, 'a', none, 1.5] }} {{ {'k': [1, 2]} }}",
    "concat": "{{ 1 ~ 'a' ~ none ~ true }}{{ 'x' + 'y' | upper }}{{ ('x' + 'y') | upper }}",
    "filters1": "{{ ' a b '|trim }}|{{ 'hello world'|title }}|{{ 'hELLO'|capitalize }}|{{ items|length }}|{{ items|join(', ') }}|{{ items|first }}|{{ items|last }}|{{ 'aXbX'|replace('X', '-') }}|{{ 42|string + '!' }}|{{ '12'|int + 1 }}|{{ 'x'|int }}|{{ 'ab'|list }}|{{ d|length }}",
    "filters2": "{{ undefined_name|default('dflt') }}|{{ ''|default('e', true) }}|{{ users|selectattr('active')|map(attribute='name')|join(',') }}|{{ users|rejectattr('active')|map(attribute='name')|list }}|{{ users|selectattr('name', 'equalto', 'bo')|list|length }}|{{ items|map('string')|join }}|{{ [3,1,3]|unique|list }}|{{ -3|abs }}",
    "tojson": "{{ d|tojson }}\n{{ d|tojson(indent=2) }}\n{{ users|tojson }}\n{{ 'q\"\\\\\\n\u00e9'|tojson }}\n{{ [1.0, 2.5, none, true]|tojson }}\n{{ {}|tojson(indent=2) }}{{ []|tojson }}",
    "methods": "{{ '  x  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '  x'.lstrip() }}|{{ 'x  '.rstrip() }}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'c')) }}|{{ 'a b  c'.split() }}|{{ 'a,b,,c'.split(',') }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}|{{ 'aaa'.replace('a', 'b', 2) }}|{{ d.get('a') }}{{ d.get('zz', 'no') }}|{{ d.keys()|list }}|{{ d.values()|list }}",
    "tests": "{{ 3 is odd }}{{ 4 is even }}{{ 'a' is string }}{{ d is mapping }}{{ 3 is number }}{{ 9 is divisibleby 3 }}{{ x is undefined }}{{ items is iterable }}{{ 1 is eq 1 }}",
    "set-block": "{% set greeting %}Hi {{ name }}!{% endset %}[{{ greeting }}]{% set a, b = [1, 2] %}{{ a + b }}",
    "macro": "{% macro render(item, sep=': ') %}{{ item.name }}{{ sep }}{{ item.active }}{% endmacro %}{% for u in users %}{{ render(u) }};{{ render(u, sep='=') }}{% endfor %}",
    "namespace-counter": "{% set ns = namespace(count=0, names=[]) %}{% for u in users %}{% set ns.count = ns.count + 1 %}{% set ns.names = ns.names + [u.name] %}{% endfor %}{{ ns.count }} {{ ns.names }}",
    "dict-literals": "{% set m = {'a': 1, 'b': [1, 2], 'c': {'d': 'e'}} %}{{ m.a }}{{ m['b'][1] }}{{ m.c.d }}{{ m|tojson }}{{ (1, 2)|list }}",
    "strings": "{{ \"it's\" }} {{ 'say \"hi\"' }} {{ ['it\\'s', \"q\\\"\"] }} {{ 'tab\\there' }} {{ 'a' 'b' }}",
    "raise": "{% if items|length > 2 %}{{ raise_exception('Too many items: ' ~ items|length) }}{% endif %}ok",
    "comment-trim": "A\n{# comment #}\nB\n  {#- c -#}  \nC",
    "select-reject": "{{ ['a', 'code', 'b']|reject('equalto', 'code')|join(', ') }}|{{ [0, 1, 2, 3]|select('odd')|list }}|{{ [0, '', 'x']|select|list }}",
    "indent": "{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'a\\nb'|indent(4, true) }}",
}
FEATURE_CONTEXT = {"items": [1, 2, 3, 4], "d": {"a": 1, "b": "two", "c": [True, None]},
                   "users": [{"name": "al", "active": True}, {"name": "bo", "active": False}], "name": "Ann"}
for name, template in FEATURES.items():
    add("feature-" + name, template, FEATURE_CONTEXT)

with open("cases.json", "w") as handle:
    json.dump(cases, handle, indent=1, ensure_ascii=False)
    handle.write("\n")
print(len(cases), "cases;", sum("error" in c for c in cases), "errors")
