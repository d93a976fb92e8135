"""Units of a rewrite: a top-level function, a method of a top-level class, or the module's
top-level code (``MODULE``). A nested function belongs to the unit around it."""

from typing import Final

import libcst as cst

__all__ = ["MODULE", "UnitTransformer"]

MODULE: Final = "<module>"


class UnitTransformer(cst.CSTTransformer):
    """A transformer that knows the classes and the depth of functions it is in."""

    def __init__(self) -> None:
        super().__init__()
        self.classes: list[str] = []
        self.functions = 0

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node.name.value)

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.classes.pop()
        return updated

    def unit_of(self, node: cst.FunctionDef) -> str | None:
        """The unit ``node`` is, if it is one (asked outside any function: on visiting it, or
        on leaving it once the depth is counted down)."""
        if self.functions == 0 and len(self.classes) <= 1:
            return ".".join([*self.classes, node.name.value])
        return None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions += 1

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef:
        self.functions -= 1
        return updated
