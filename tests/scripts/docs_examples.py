"""Run the python examples of the docs, given as JSON on stdin, on a local Ray of two
CPUs; print one JSON report line.

The examples of one page run in order in one namespace, as a reader types them.
A statement whose comment is a Python literal (``future.result()  # 1024``,
``print(sums)  # [1, 3, 6, 10]``) must give that value.
"""

import ast
import io
import json
import sys
import tokenize
import traceback


def _literal_comments(source: str) -> dict[int, object]:
    """line -> the value a trailing comment states, where it is a literal."""
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            text = token.string[1:].strip()
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            if "..." not in text:  # "[0, 1, 4, ..., 81]" abbreviates, it is no literal
                found[token.start[0]] = value
    return found


class _Checks(ast.NodeTransformer):
    """Rewrite ``expr  # literal`` into ``__check__(expr, "<example>:<line>")``."""

    def __init__(self, expected: dict[int, object], number: int):
        self.expected, self.number = expected, number

    def visit_Expr(self, node):
        if node.end_lineno not in self.expected:
            return node
        value = node.value
        name = "__check__"
        if (isinstance(value, ast.Call) and getattr(value.func, "id", None) == "print"
                and len(value.args) == 1 and not value.keywords):
            value, name = value.args[0], "__check_print__"
        where = ast.Constant(f"{self.number}:{node.end_lineno}")
        call = ast.Call(ast.Name(name, ast.Load()), [value, where], [])
        return ast.copy_location(ast.Expr(call), node)


def _checker(expected: dict[str, object]):
    """The two functions the rewritten statements call: ``expected`` by "<example>:<line>"."""

    def check(value, line):
        _compare(value, expected[line], line)
        return value

    def check_print(value, line):
        print(value)
        return check(value, line)

    return {"__check__": check, "__check_print__": check_print}


def _compare(value, expected, line):
    if value != expected:
        raise AssertionError(f"at example:line {line}, the comment says {expected!r}, the code gives "
                             f"{value!r}")


def run(pages) -> dict:
    checked = 0
    for page, examples in pages.items():
        expected_here: dict[str, object] = {}
        namespace = {"__name__": "__main__", **_checker(expected_here)}
        for number, source in examples:
            where = f"{page}, example {number}"
            expected = _literal_comments(source)
            expected_here.update({f"{number}:{line}": v for line, v in expected.items()})
            tree = ast.fix_missing_locations(_Checks(expected, number).visit(ast.parse(source)))
            try:
                exec(compile(tree, where, "exec"), namespace)
            except BaseException:
                return {"failed": where, "error": traceback.format_exc(), "checked": checked}
            checked += len(expected)
    return {"failed": None, "checked": checked}


if __name__ == "__main__":
    import ray
    from ray.cluster_utils import Cluster

    from rayexec.deploy.local_cluster import free_port
    from rayexec.deploy.ray_logs import quiet_ray

    # One local Ray for all the pages: the examples' Client() finds it running and
    # uses it, where each page would otherwise start and stop its own.  Its node
    # agent takes a free port, not Ray's fixed default, which another Ray may hold.
    options = quiet_ray()
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 2, "include_dashboard": False, "dashboard_agent_listen_port": free_port()})
    try:
        ray.init(address=cluster.address, **options)
        report = run(json.load(sys.stdin))
    finally:
        ray.shutdown()
        cluster.shutdown()
    print(json.dumps(report))
