"""Filter expressions built with Python operators, rendered in the tabular engine's language
(docs/catalog-api.md, transforms.filter):  ident op literal, combined with and / or / not.

    ds.filter(ds['age'] > 15)
    ds.filter((ds.region == 'eu') & ~(ds['amount'] < 0))
    ds.filter(ds['name'].contains('Bri') & ds['region'].isin(['eu', 'us']))
"""

import datetime
import re

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WORDS = {"and", "or", "not", "true", "false", "null"}  # operator words are fine as names


def _ident(name):
    if _IDENT.match(name) and name.lower() not in _WORDS:
        return name
    return "`" + name.replace("`", "``") + "`"


def _literal(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError("a filter literal must be finite, not %r" % v)
        return repr(v)
    if isinstance(v, (datetime.datetime, datetime.date)):
        v = v.isoformat(sep=" ") if isinstance(v, datetime.datetime) else v.isoformat()
    if isinstance(v, str):
        if "'" not in v:
            return "'" + v + "'"
        if '"' not in v:
            return '"' + v + '"'
        raise ValueError("a filter string cannot hold both ' and \": %r" % v)
    raise TypeError("unsupported filter literal %r (numbers, strings, bools, dates, None)" % (v,))


_COMPARE = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


class Expression:
    """A boolean expression over columns; combine with &, | and ~. `text` is it in the tabular
    engine's language; `test(row)` evaluates it on a dict (FileDataset.filter's file metadata)."""

    def __init__(self, text, test=None):
        self.text = text
        self._test = test

    def test(self, row):
        return bool(self._test(row))

    def __and__(self, other):
        o = _expr(other)
        return Expression("(%s) and (%s)" % (self.text, o.text),
                          lambda r: self._test(r) and o._test(r))

    def __or__(self, other):
        o = _expr(other)
        return Expression("(%s) or (%s)" % (self.text, o.text),
                          lambda r: self._test(r) or o._test(r))

    def __invert__(self):
        return Expression("not (%s)" % self.text, lambda r: not self._test(r))

    def __bool__(self):
        raise TypeError("use &, | and ~ to combine filter expressions, not and/or/not")

    def __repr__(self):
        return "Expression(%r)" % self.text

    def __str__(self):
        return self.text


def _expr(e):
    if isinstance(e, Expression):
        return e
    raise TypeError("expected a filter expression such as ds['age'] > 15, not %r" % (e,))


class Column:
    """A column reference: ds['name'] or ds.name."""

    def __init__(self, name):
        self.name = name

    def _cmp(self, op, value):
        compare = _COMPARE[op]

        def test(row):
            v = self._value(row)
            if value is None or v is None:
                return compare(v is None, value is None) if op in ("==", "!=") else False
            return compare(v, value)
        return Expression("%s %s %s" % (_ident(self.name), op, _literal(value)), test)

    def _value(self, row):
        if self.name not in row:
            raise KeyError(self.name)
        return row[self.name]

    def __eq__(self, v):
        return self._cmp("==", v)

    def __ne__(self, v):
        return self._cmp("!=", v)

    def __lt__(self, v):
        return self._cmp("<", v)

    def __le__(self, v):
        return self._cmp("<=", v)

    def __gt__(self, v):
        return self._cmp(">", v)

    def __ge__(self, v):
        return self._cmp(">=", v)

    def contains(self, text):
        """Rows whose value, as text, contains `text`."""
        return self._text_op("contains", text)

    def startswith(self, text):
        return self._text_op("startswith", text)

    def endswith(self, text):
        return self._text_op("endswith", text)

    def _text_op(self, op, text):
        if not isinstance(text, str):
            raise TypeError("%s takes a string, not %r" % (op, text))
        check = {"contains": lambda v: text in v, "startswith": lambda v: v.startswith(text),
                 "endswith": lambda v: v.endswith(text)}[op]

        def test(row):
            v = self._value(row)
            return v is not None and check(str(v))
        return Expression("%s %s %s" % (_ident(self.name), op, _literal(text)), test)

    def isin(self, values):
        """Rows whose value is one of `values` (numbers, strings or bools)."""
        values = list(values)
        if not values:
            raise ValueError("isin needs at least one value")
        if any(v is None for v in values):
            raise ValueError("isin cannot match None: combine with == None instead")
        return Expression("%s in (%s)" % (_ident(self.name),
                                          ", ".join(_literal(v) for v in values)),
                          lambda row: self._value(row) in values)

    __hash__ = None

    def __repr__(self):
        return "Column(%r)" % self.name
