"""Ray's ID classes (ActorID, NodeID, JobID, TaskID, WorkerID, ObjectID):
immutable wrappers of the binary ids the core uses, with hex()/binary().
The sizes are Photon's (docs/ids.md), not Ray's."""


class BaseID:
    __slots__ = ("_bytes",)
    SIZE = None  # bytes; None: any length

    def __init__(self, binary):
        if not isinstance(binary, (bytes, bytearray)):
            raise TypeError(f"{type(self).__name__} takes bytes, got {type(binary)}")
        if self.SIZE is not None and len(binary) != self.SIZE:
            raise ValueError(f"{type(self).__name__} must be {self.SIZE} bytes, got {len(binary)}")
        self._bytes = bytes(binary)

    @classmethod
    def from_binary(cls, binary):
        return cls(binary)

    @classmethod
    def from_hex(cls, hex_id):
        return cls(bytes.fromhex(hex_id))

    @classmethod
    def nil(cls):
        return cls(b"\xff" * (cls.SIZE or 0))

    @classmethod
    def size(cls):
        return cls.SIZE

    def is_nil(self):
        return all(b == 0xFF for b in self._bytes)

    def binary(self):
        return self._bytes

    def hex(self):
        return self._bytes.hex()

    def __eq__(self, other):
        return type(other) is type(self) and other._bytes == self._bytes

    def __hash__(self):
        return hash((type(self).__name__, self._bytes))

    def __repr__(self):
        return f"{type(self).__name__}({self.hex()})"

    def __str__(self):
        return self.hex()

    def __reduce__(self):
        return type(self), (self._bytes,)


class JobID(BaseID):
    SIZE = 8

    def int(self):
        return int.from_bytes(self._bytes, "little")


class ActorID(BaseID):
    SIZE = 20


class TaskID(BaseID):
    SIZE = 36


class NodeID(BaseID):
    SIZE = 16


class WorkerID(BaseID):
    SIZE = 24


class ObjectID(BaseID):
    SIZE = 40


class PlacementGroupID(BaseID):
    SIZE = 20
