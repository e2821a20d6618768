"""The two errors of the scaffold compiler. Both carry a JSON pointer and a reason."""


class SchemaError(ValueError):
    """The schema is invalid or uses a feature the scaffold compiler does not support.

    `pointer` is a JSON pointer into the schema ("/properties/when/type"), `reason` says what to do.
    """

    def __init__(self, pointer: str, reason: str):
        super().__init__(f"schema {pointer or '(root)'}: {reason}")
        self.pointer = pointer
        self.reason = reason

    def __reduce__(self):
        return type(self), (self.pointer, self.reason)


class ArgumentError(ValueError):
    """Arguments do not fit the scaffold (encode) or slot tokens do not assemble (decode).

    `pointer` is a JSON pointer into the arguments ("/stops/2/city"), "" for the whole object.
    """

    def __init__(self, pointer: str, reason: str):
        super().__init__(f"arguments {pointer or '(root)'}: {reason}")
        self.pointer = pointer
        self.reason = reason

    def __reduce__(self):
        return type(self), (self.pointer, self.reason)
