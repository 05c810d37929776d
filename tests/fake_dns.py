"""A stand-in for DNS in tests (WEBHOOK_RESOLVER): numeric hosts as the system reads them, names from a table.

No test asks real DNS: a name missing from the table does not resolve, as for a typo. `answers`
may change between calls, as a rebinding name's would.
"""
import socket


class FakeDns:
    def __init__(self, names: dict[str, list[str]] | None = None):
        self.names = {"localhost": ["127.0.0.1", "::1"], **(names or {})}
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        try:  # 127.1, 2130706433, ::ffff:127.0.0.1 … read as getaddrinfo reads them, without DNS
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
            return [info[4][0] for info in infos]
        except socket.gaierror:
            pass
        answer = self.names.get(host.rstrip(".").lower())
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(answer)
