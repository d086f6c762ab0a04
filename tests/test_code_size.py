"""The library stays small and readable: no function longer than 60 lines of code (its docstring not
counted) unless its docstring says why ("Long because …"), and no module over 400 lines."""
from __future__ import annotations

import ast
from pathlib import Path

LIB = Path(__file__).resolve().parents[1] / "conservae_lib"
LIMIT = 60


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    n = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        n -= first.end_lineno - first.lineno + 1
    return n


def long_functions(lib: Path = LIB) -> list[str]:
    out = []
    for path in sorted(lib.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _code_lines(node) > LIMIT:
                if "Long because" not in (ast.get_docstring(node) or ""):
                    out.append(f"{path.relative_to(lib)}:{node.lineno} {node.name} ({_code_lines(node)} lines)")
    return out


def test_no_function_is_longer_than_60_lines_without_a_reason():
    assert long_functions() == []


def test_the_check_finds_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT + 1))
    (tmp_path / "m.py").write_text(f'def f():\n    """Doc."""\n{body}\n')
    assert long_functions(tmp_path) == [f"m.py:1 f ({LIMIT + 2} lines)"]
    (tmp_path / "m.py").write_text(f'def f():\n    """Long because it must."""\n{body}\n')
    assert long_functions(tmp_path) == []


def test_no_module_is_over_400_lines():
    big = [f"{p.relative_to(LIB)} ({n})" for p in sorted(LIB.rglob("*.py")) if (n := len(p.read_text().splitlines())) > 400]
    assert big == []
