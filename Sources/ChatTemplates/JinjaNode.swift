// RadixServe: the syntax tree of a parsed template.

/// An expression. Every case that can fail at render time carries its source byte offset.
indirect enum JinjaExpression: Sendable {
    case literal(JinjaValue)
    case name(String, offset: Int)
    case list([JinjaExpression])
    case dictionary([(key: JinjaExpression, value: JinjaExpression)])
    case attribute(JinjaExpression, String, offset: Int)
    case item(JinjaExpression, JinjaExpression, offset: Int)
    case slice(JinjaExpression, start: JinjaExpression?, stop: JinjaExpression?, step: JinjaExpression?, offset: Int)
    case call(JinjaExpression, JinjaArguments, offset: Int)
    case filter(JinjaExpression, String, JinjaArguments, offset: Int)
    case test(JinjaExpression, String, JinjaArguments, isNegated: Bool, offset: Int)
    case unary(String, JinjaExpression, offset: Int)
    case binary(String, JinjaExpression, JinjaExpression, offset: Int)
    case conditional(condition: JinjaExpression, then: JinjaExpression, otherwise: JinjaExpression?)
}

/// Call arguments: positional first, then keywords in source order.
struct JinjaArguments: Sendable {
    var positional: [JinjaExpression] = []
    var keywords: [(name: String, value: JinjaExpression)] = []
}

/// The left-hand side of `set` or the targets of `for`.
enum JinjaTarget: Sendable {
    case name(String)
    case names([String])
    case attribute(namespace: String, attribute: String)
}

/// A statement or output node.
indirect enum JinjaNode: Sendable {
    case text(String)
    case output(JinjaExpression)
    case conditional(branches: [(condition: JinjaExpression, body: [JinjaNode])], otherwise: [JinjaNode])
    case loop(JinjaLoop)
    case assign(JinjaTarget, JinjaExpression, offset: Int)
    case assignBlock(String, body: [JinjaNode])
    case macro(JinjaMacro)
    case breakLoop
    case continueLoop
}

/// A `{% for %}` statement.
struct JinjaLoop: Sendable {
    var target: JinjaTarget
    var iterable: JinjaExpression
    var filter: JinjaExpression?
    var body: [JinjaNode]
    var otherwise: [JinjaNode]
    var offset: Int
}

/// A `{% macro %}` definition.
struct JinjaMacro: Sendable {
    var name: String
    var parameters: [(name: String, defaultValue: JinjaExpression?)]
    var body: [JinjaNode]
}
