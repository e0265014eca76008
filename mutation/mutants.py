"""The code mutants of one module, and how to put one in place in a running process.

A mutant is one small change to the module's syntax tree, of a kind a slip of the keyboard or
of reasoning makes: a comparison's boundary (``<`` and ``<=``), its sense (``==`` and ``!=``,
``in`` and ``not in``), ``and`` and ``or``, an arithmetic or set operator, a number one higher,
``True`` and ``False``, a ``not`` left out, ``min`` and ``max``, ``break`` and ``continue``, a
call made for its effect, a ``raise`` or a returned value left out. Only code is mutated:
strings (messages, SQL, keys), docstrings, annotations and decorators are left alone, so a
score counts behaviour, not wording.

A mutant is put in place without touching the file: the top-level statement that holds it is
compiled again with the change and swapped into the imported module. A function keeps its
identity and takes the mutant's code object, so every ``from module import function`` made
elsewhere runs the mutant too; a module constant (or a class attribute) is replaced in the
module (or class) itself, so code that copied it at import keeps the original. Undoing restores
every object exactly.
"""

import ast
import copy
import dataclasses
import functools
import io
import re
import tokenize
import types
from dataclasses import dataclass, field

# Each comparison's boundary or sense, turned.
_COMPARISONS = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_OPERATORS = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.BitOr: ast.BitAnd,
    ast.BitAnd: ast.BitOr,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}
_BOOLEANS = {ast.And: ast.Or, ast.Or: ast.And}
_NAMES = {"min": "max", "max": "min", "any": "all", "all": "any"}
# Top-level statements whose mutants can be swapped in.
_SWAPPABLE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)
# ``# mutation: equivalent - why`` after code marks that line's mutants as equivalent.
PRAGMA = re.compile(r"#\s*mutation:\s*equivalent\b\s*[-:]?\s*(?P<reason>.*)$")


class CannotApply(Exception):
    """The mutant cannot be swapped into the running module (reported, never scored)."""


@dataclass(frozen=True)
class Mutant:
    module: str  # the file, relative to the repository
    statement: int  # index of the top-level statement that holds it
    node: int  # index of the changed node in ``ast.walk`` of that statement
    kind: str
    change: tuple  # what to do to the node (depends on ``kind``)
    line: int
    end_line: int
    where: str  # the enclosing function or class, dotted; "<module>" at the top
    original: str  # the changed node's code, before and after
    mutated: str
    # Which tests can notice it: "body" those that run its lines, "called" those that call
    # ``scope_line``'s function (a default value), "module" every test of the module.
    scope: str
    scope_line: int
    before: str = ""  # the source line(s), before and after, for the report
    after: str = ""
    pragma: str | None = None  # the reason given by an equivalence pragma
    occurrence: int = 1  # the n-th mutant of the module with this change of this line

    @property
    def key(self) -> str:
        """How the configuration names this mutant, stable while lines move around it: the
        function and the changed line, before and after (numbered when a line repeats)."""
        text = f"{self.where}: {self.before} -> {self.after}"
        return text if self.occurrence == 1 else f"{text} #{self.occurrence}"

    @property
    def ident(self) -> str:
        return f"{self.module}:{self.statement}:{self.node}:{self.kind}:{self.change}"

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict) -> "Mutant":
        fields = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**{**fields, "change": tuple(data["change"])})


@dataclass
class _Context:
    where: str = "<module>"
    scope: str = "module"
    scope_line: int = 0
    skip: bool = False


def _pragmas(source: str) -> dict[int, str]:
    """Line → reason, for every equivalence pragma; a pragma without a reason is an error."""
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        match = PRAGMA.search(token.string)
        if match:
            reason = match.group("reason").strip()
            if not reason:
                raise ValueError(f"line {token.start[0]}: an equivalence pragma needs a reason")
            found[token.start[0]] = reason
    return found


def _contexts(statement: ast.stmt) -> dict[int, _Context]:
    """For each node of ``statement`` (by id), where it is and which tests can notice it."""
    contexts: dict[int, _Context] = {}

    def visit(node, context: _Context):
        contexts[id(node)] = context
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = node.name if context.where == "<module>" else f"{context.where}.{node.name}"
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            # Defaults are evaluated where the function is defined: at import for a module's
            # or a class's function (tests that call it notice), else in the enclosing body.
            default_scope = "called" if context.scope != "body" else "body"
            for decorator in node.decorator_list:
                visit(decorator, _Context(name, context.scope, context.scope_line, True))
            for default in [*node.args.defaults, *filter(None, node.args.kw_defaults)]:
                visit(default, _Context(name, default_scope, first, context.skip))
            for argument in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
                visit(argument, _Context(name, context.scope, context.scope_line, True))
            if node.returns is not None:
                visit(node.returns, _Context(name, context.scope, context.scope_line, True))
            for child in node.body:
                visit(child, _Context(name, "body", 0, context.skip))
            return
        if isinstance(node, ast.ClassDef):
            name = node.name if context.where == "<module>" else f"{context.where}.{node.name}"
            for child in [*node.decorator_list, *node.bases, *node.keywords]:
                visit(child, _Context(name, context.scope, context.scope_line, True))
            for child in node.body:
                visit(child, _Context(name, context.scope, context.scope_line, context.skip))
            return
        if isinstance(node, ast.AnnAssign):
            visit(node.annotation, _Context(context.where, context.scope, context.scope_line, True))
            visit(node.target, context)
            if node.value is not None:
                visit(node.value, context)
            return
        if isinstance(node, ast.arg):
            skipped = _Context(context.where, context.scope, context.scope_line, True)
            if node.annotation is not None:
                visit(node.annotation, skipped)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, context)

    visit(statement, _Context())
    return contexts


def _is_docstring(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _changes(node: ast.AST, parent: ast.AST | None):
    """(kind, change) for each mutant of ``node``."""
    if isinstance(node, ast.Compare):
        for position, operator in enumerate(node.ops):
            turned = _COMPARISONS.get(type(operator))
            if turned:
                yield "compare", (position, turned.__name__)
    elif isinstance(node, ast.BoolOp):
        yield "boolean", (_BOOLEANS[type(node.op)].__name__,)
    elif isinstance(node, ast.BinOp | ast.AugAssign):
        turned = _OPERATORS.get(type(node.op))
        text_formatting = (
            isinstance(node.op, ast.Mod)
            and isinstance(node, ast.BinOp)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
        )
        if turned and not text_formatting:
            yield "operator", (turned.__name__,)
    elif isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not | ast.USub):
            yield "unary", ()
    elif isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            yield "constant", (not value,)
        elif isinstance(value, int | float):
            yield "constant", (value + 1,)
    elif isinstance(node, ast.Name) and node.id in _NAMES:
        if isinstance(parent, ast.Call) and parent.func is node:
            yield "name", (_NAMES[node.id],)
    elif isinstance(node, ast.Raise) or (
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
    ):
        yield "remove", ()
    elif isinstance(node, ast.Return):
        value = node.value
        if value is not None and not (isinstance(value, ast.Constant) and value.value is None):
            yield "return", ()
    elif isinstance(node, ast.Break):
        yield "loop", ("Continue",)
    elif isinstance(node, ast.Continue):
        yield "loop", ("Break",)


def _parents(statement: ast.AST) -> dict[int, ast.AST]:
    return {id(child): node for node in ast.walk(statement) for child in ast.iter_child_nodes(node)}


def _replace(parent: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for name, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, name, new)
            return
        if isinstance(value, list):
            for index, item in enumerate(value):
                if item is old:
                    value[index] = new
                    return
    raise CannotApply("the node is not where it was found")


def _mutate(statement: ast.stmt, node: ast.AST, kind: str, change: tuple) -> ast.AST:
    """Change ``node`` (inside ``statement``) in place; returns the node now in its place."""
    if kind == "compare":
        position, name = change
        node.ops[position] = getattr(ast, name)()
        return node
    if kind in ("boolean", "operator"):
        node.op = getattr(ast, change[0])()
        return node
    if kind == "constant":
        node.value = change[0]
        return node
    if kind == "name":
        node.id = change[0]
        return node
    parent = _parents(statement)[id(node)]
    if kind == "unary":
        new = node.operand
    elif kind == "remove":
        new = ast.Pass()
    elif kind == "return":
        new = ast.Return(value=ast.Constant(value=None))
    elif kind == "loop":
        new = getattr(ast, change[0])()
    else:
        raise CannotApply(f"unknown kind of mutant {kind!r}")
    _replace(parent, node, ast.copy_location(new, node))
    return new


def _code(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if "\n" not in text else text.splitlines()[0] + " ..."


def _lines(source_lines: list[str], node: ast.AST, replacement: str) -> tuple[str, str]:
    """The node's source line, before and after the change (the first line if it spans
    several)."""
    line = source_lines[node.lineno - 1]
    if node.end_lineno == node.lineno and node.end_col_offset is not None:
        # Offsets count UTF-8 bytes.
        encoded = line.encode()
        start, end = node.col_offset, node.end_col_offset
        changed = encoded[:start].decode() + replacement + encoded[end:].decode()
        return line.strip(), changed.strip()
    return line.strip(), replacement


def generate(module: str, source: str) -> list[Mutant]:
    """Every code mutant of ``source`` (the file ``module``), in source order."""
    tree = ast.parse(source, filename=module)
    pragmas = _pragmas(source)
    source_lines = source.splitlines()
    mutants = []
    for index, statement in enumerate(tree.body):
        if not isinstance(statement, _SWAPPABLE):
            continue
        contexts = _contexts(statement)
        parents = _parents(statement)
        nodes = list(ast.walk(statement))
        for number, node in enumerate(nodes):
            context = contexts.get(id(node))
            if context is None or context.skip or _is_docstring(node):
                continue
            for kind, change in _changes(node, parents.get(id(node))):
                copied = copy.deepcopy(statement)
                new = _mutate(copied, list(ast.walk(copied))[number], kind, change)
                replacement = "pass" if isinstance(new, ast.Pass) else _code(new)
                before, after = _lines(source_lines, node, replacement)
                mutants.append(
                    Mutant(
                        module=module,
                        statement=index,
                        node=number,
                        kind=kind,
                        change=change,
                        line=node.lineno,
                        end_line=node.end_lineno or node.lineno,
                        where=context.where,
                        original=_code(node),
                        mutated=replacement,
                        scope=context.scope,
                        scope_line=context.scope_line,
                        before=before,
                        after=after,
                        pragma=pragmas.get(node.lineno),
                    )
                )
    mutants.sort(key=lambda mutant: (mutant.line, mutant.node, mutant.kind, str(mutant.change)))
    seen: dict[str, int] = {}
    numbered = []
    for mutant in mutants:
        seen[mutant.key] = seen.get(mutant.key, 0) + 1
        numbered.append(dataclasses.replace(mutant, occurrence=seen[mutant.key]))
    return numbered


# -- putting a mutant in place ---------------------------------------------------------------
_MISSING = object()
_CLASS_INTERNALS = {"__dict__", "__weakref__", "__module__", "__qualname__", "__doc__"}


@dataclass
class Applied:
    """A mutant in place; ``undo()`` puts every changed object back as it was."""

    _undo: list = field(default_factory=list)

    def set(self, target, name: str, value) -> None:
        # A class's own attribute, or none (then undoing deletes it and inheritance shows
        # through again); a function's attribute always exists.
        previous = (
            vars(target).get(name, _MISSING) if isinstance(target, type) else getattr(target, name)
        )
        self._undo.append((target, name, previous))
        setattr(target, name, value)

    def set_global(self, namespace: dict, name: str, value) -> None:
        self._undo.append((namespace, name, namespace.get(name, _MISSING)))
        namespace[name] = value

    def undo(self) -> None:
        while self._undo:
            target, name, previous = self._undo.pop()
            if isinstance(target, dict):
                if previous is _MISSING:
                    target.pop(name, None)
                else:
                    target[name] = previous
            elif previous is _MISSING:
                delattr(target, name)
            else:
                setattr(target, name, previous)


def _function_pairs(old, new):
    """The plain functions behind ``old`` and ``new`` (methods, properties, decorated
    functions), paired."""
    if isinstance(old, property) and isinstance(new, property):
        for name in ("fget", "fset", "fdel"):
            yield from _function_pairs(getattr(old, name), getattr(new, name))
        return
    if isinstance(old, staticmethod | classmethod) and type(new) is type(old):
        yield from _function_pairs(old.__func__, new.__func__)
        return
    if isinstance(old, functools.cached_property) and isinstance(new, functools.cached_property):
        yield from _function_pairs(old.func, new.func)
        return
    if isinstance(old, types.FunctionType) and isinstance(new, types.FunctionType):
        yield old, new
    old_wrapped = getattr(old, "__dict__", {}).get("__wrapped__")
    new_wrapped = getattr(new, "__dict__", {}).get("__wrapped__")
    if old_wrapped is not None and new_wrapped is not None:
        yield from _function_pairs(old_wrapped, new_wrapped)


def _swap(applied: Applied, old, new) -> bool:
    pairs = list(_function_pairs(old, new))
    for old_function, new_function in pairs:
        if old_function.__code__.co_freevars != new_function.__code__.co_freevars:
            raise CannotApply(f"{old_function.__qualname__} closes over other names")
        applied.set(old_function, "__code__", new_function.__code__)
        applied.set(old_function, "__defaults__", new_function.__defaults__)
        applied.set(old_function, "__kwdefaults__", new_function.__kwdefaults__)
    return bool(pairs)


def _differs(old, new) -> bool:
    try:
        return bool(old != new)
    except Exception:
        return True


def _patch_class(applied: Applied, old_class: type, new_class: type, methods_only: bool):
    for name, new_value in vars(new_class).items():
        if name in _CLASS_INTERNALS:
            continue
        old_value = vars(old_class).get(name, _MISSING)
        if old_value is not _MISSING and _swap(applied, old_value, new_value):
            continue
        if not methods_only and (old_value is _MISSING or _differs(old_value, new_value)):
            applied.set(old_class, name, new_value)


def _uses_class_cell(function: ast.AST) -> bool:
    return any(
        isinstance(node, ast.Name) and node.id in ("super", "__class__")
        for node in ast.walk(function)
    )


def _keep_class_cell(original: ast.stmt, mutated: ast.stmt) -> None:
    """A method that called ``super()`` closes over ``__class__``; its code can only take the
    place of one that still does, so a mutant that removed the call keeps an unreachable
    mention of it."""
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    needing = {
        (node.lineno, node.col_offset)
        for node in ast.walk(original)
        if isinstance(node, functions) and _uses_class_cell(node)
    }
    for node in ast.walk(mutated):
        if (
            isinstance(node, functions)
            and (node.lineno, node.col_offset) in needing
            and not _uses_class_cell(node)
        ):
            mention = ast.Expr(ast.Name("__class__", ast.Load()))
            node.body.append(ast.If(test=ast.Constant(False), body=[mention], orelse=[]))


def _assigned_names(statement: ast.stmt) -> list[str]:
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    return [
        node.id
        for target in targets
        for node in ast.walk(target)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    ]


def apply(mutant: Mutant, module: types.ModuleType, tree: ast.Module) -> Applied:
    """Put ``mutant`` in place in the imported ``module`` (whose source parsed to ``tree``)."""
    statement = copy.deepcopy(tree.body[mutant.statement])
    _mutate(statement, list(ast.walk(statement))[mutant.node], mutant.kind, mutant.change)
    _keep_class_cell(tree.body[mutant.statement], statement)
    ast.fix_missing_locations(statement)
    code = compile(ast.Module(body=[statement], type_ignores=[]), module.__file__, "exec")
    namespace = dict(vars(module))
    try:
        exec(code, namespace)
    except Exception as error:
        raise CannotApply(f"the mutated statement fails to run: {error!r}") from None
    applied = Applied()
    try:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            if not _swap(applied, getattr(module, statement.name), namespace[statement.name]):
                raise CannotApply(f"{statement.name} is not a plain function")
        elif isinstance(statement, ast.ClassDef):
            methods_only = mutant.scope != "module"
            _patch_class(
                applied, getattr(module, statement.name), namespace[statement.name], methods_only
            )
        else:
            names = _assigned_names(statement)
            for name in names:
                applied.set_global(vars(module), name, namespace[name])
            _refresh_defaults(applied, module, tree, set(names), namespace)
    except BaseException:
        applied.undo()
        raise
    return applied


def _refresh_defaults(applied: Applied, module, tree: ast.Module, names: set[str], namespace):
    """Give the module's functions whose default values use ``names`` the defaults the changed
    constant gives them (``def text(self, max_length=MAX_TEXT_CHARS)``): a default is taken
    once, when the function is defined."""
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            owner, functions = module, [statement]
        elif isinstance(statement, ast.ClassDef):
            owner = vars(module).get(statement.name)
            functions = [
                item
                for item in statement.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
        else:
            continue
        for function in functions:
            defaults = [*function.args.defaults, *filter(None, function.args.kw_defaults)]
            used = {
                node.id
                for default in defaults
                for node in ast.walk(default)
                if isinstance(node, ast.Name)
            }
            if not used & names:
                continue
            bare = copy.deepcopy(function)
            bare.decorator_list, bare.body = [], [ast.Pass()]
            ast.fix_missing_locations(bare)
            exec(
                compile(ast.Module(body=[bare], type_ignores=[]), module.__file__, "exec"),
                namespace,
            )
            fresh = namespace[function.name]
            current = vars(owner).get(function.name)
            for old, _ in _function_pairs(current, current):
                if old.__code__.co_name == function.name:
                    applied.set(old, "__defaults__", fresh.__defaults__)
                    applied.set(old, "__kwdefaults__", fresh.__kwdefaults__)
