"""SIM/ME message storage of the simulated modem, persisted atomically as JSON when a path is given."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# <stat> values of 27.005 PDU mode, and their text-mode names.
REC_UNREAD, REC_READ, STO_UNSENT, STO_SENT, ALL = 0, 1, 2, 3, 4
STAT_NAMES = {0: "REC UNREAD", 1: "REC READ", 2: "STO UNSENT", 3: "STO SENT", 4: "ALL"}

DEFAULT_CAPACITY = {"SM": 30, "ME": 100, "SR": 20}


@dataclass
class StoredMessage:
    index: int
    stat: int
    pdu: str  # whole PDU hex incl. SMSC octets
    length: int  # TPDU octets (the <length> of +CMGR/+CMGL)


class Storage:
    """Memories (SM, ME, SR) of fixed capacity holding PDUs, plus the SIM's message reference counter.

    Indices are numbered from ``index_base`` (0 on some Huawei, 1 elsewhere). Every mutation is saved
    to ``path`` (if any) via a temporary file and ``os.replace``, so the file is always whole.
    """

    def __init__(self, path: Path | None = None, *, capacity: dict[str, int] | None = None,
                 index_base: int = 1) -> None:
        self.path = path
        self.capacity = dict(DEFAULT_CAPACITY if capacity is None else capacity)
        self.index_base = index_base
        self.mems: dict[str, dict[int, StoredMessage]] = {m: {} for m in self.capacity}
        self.mr = 0
        self.full = False  # fault: every memory reports itself full
        if path is not None and path.exists():
            self._load(path)

    # -- persistence
    def _load(self, path: Path) -> None:
        data = json.loads(path.read_text())
        self.mr = int(data.get("mr", 0)) % 256
        for mem, msgs in data.get("memories", {}).items():
            box = self.mems.setdefault(mem, {})
            self.capacity.setdefault(mem, DEFAULT_CAPACITY.get(mem, 30))
            for m in msgs:
                sm = StoredMessage(int(m["index"]), int(m["stat"]), str(m["pdu"]), int(m["length"]))
                box[sm.index] = sm

    def to_json(self) -> dict[str, Any]:
        return {
            "mr": self.mr,
            "memories": {mem: [asdict(m) for m in sorted(box.values(), key=lambda m: m.index)]
                         for mem, box in self.mems.items()},
        }

    def save(self) -> None:
        if self.path is None:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1))
        os.replace(tmp, self.path)

    # -- queries
    def used(self, mem: str) -> int:
        return self.capacity[mem] if self.full else len(self.mems[mem])

    def is_full(self, mem: str) -> bool:
        return self.full or len(self.mems[mem]) >= self.capacity[mem]

    def valid_index(self, mem: str, index: int) -> bool:
        return self.index_base <= index < self.index_base + self.capacity[mem]

    def get(self, mem: str, index: int) -> StoredMessage | None:
        return self.mems[mem].get(index)

    def listing(self, mem: str, stat: int) -> list[StoredMessage]:
        box = self.mems[mem]
        return [box[i] for i in sorted(box) if stat == ALL or box[i].stat == stat]

    # -- mutations
    def store(self, mem: str, stat: int, pdu: str, length: int) -> int | None:
        """Store in the first free slot; returns its index, or None when the memory is full."""
        if self.is_full(mem):
            return None
        box = self.mems[mem]
        index = next(i for i in range(self.index_base, self.index_base + self.capacity[mem]) if i not in box)
        box[index] = StoredMessage(index, stat, pdu.upper(), length)
        self.save()
        return index

    def set_stat(self, mem: str, index: int, stat: int) -> None:
        msg = self.mems[mem].get(index)
        if msg is not None and msg.stat != stat:
            msg.stat = stat
            self.save()

    def delete(self, mem: str, index: int) -> bool:
        removed = self.mems[mem].pop(index, None) is not None
        if removed:
            self.save()
        return removed

    def delete_flag(self, mem: str, flag: int) -> int:
        """AT+CMGD=,<delflag> 1..4: read; read+sent; read+sent+unsent; all. Returns how many went."""
        stats = {1: {REC_READ}, 2: {REC_READ, STO_SENT}, 3: {REC_READ, STO_SENT, STO_UNSENT},
                 4: {REC_UNREAD, REC_READ, STO_SENT, STO_UNSENT}}[flag]
        box = self.mems[mem]
        doomed = [i for i, m in box.items() if m.stat in stats]
        for i in doomed:
            del box[i]
        if doomed:
            self.save()
        return len(doomed)

    def next_mr(self) -> int:
        mr = self.mr
        self.mr = (self.mr + 1) % 256
        self.save()
        return mr
