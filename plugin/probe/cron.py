"""cron jobs that run the docker CLI: the system crontab and /etc/cron.d (schedule, user, command),
the users' crontabs under /var/spool/cron (schedule, command), anacrontab, the scripts in
/etc/cron.{hourly,daily,weekly,monthly}, and the scripts each entry calls."""

from __future__ import annotations

import re

from plugin.probe import scripts
from plugin.probe.findings import HostFinding
from plugin.probe.hostfs import HostRoot

SYSTEM_CRONTABS = ("/etc/crontab",)
SYSTEM_CRONTAB_DIRS = ("/etc/cron.d",)
USER_CRONTAB_DIRS = ("/var/spool/cron", "/var/spool/cron/crontabs")
SCRIPT_DIRS = ("/etc/cron.hourly", "/etc/cron.daily", "/etc/cron.weekly", "/etc/cron.monthly")
ANACRONTAB = "/etc/anacrontab"
_ENVIRONMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\s*=")


def entry_command(line: str, with_user: bool, fields: int = 5) -> str | None:
    """The command of a crontab line, or None for a comment, a blank or an environment line."""
    line = line.strip()
    if not line or line.startswith("#") or _ENVIRONMENT.match(line):
        return None
    schedule = (1 if line.startswith("@") else fields) + (1 if with_user else 0)
    words = line.split(None, schedule)
    return words[schedule] if len(words) > schedule else None


def crontab_findings(host: HostRoot, path: str, with_user: bool, seen: set[str], fields: int = 5
                     ) -> list[HostFinding]:
    text = host.read_text(path)
    if text is None:
        return []
    findings = []
    for line in text.splitlines():
        command = entry_command(line, with_user, fields)
        if command is not None:
            findings.extend(scripts.command_findings(host, command, path, "cron", None, seen))
    return findings


def cron_findings(host: HostRoot, seen_scripts: set[str] | None = None) -> list[HostFinding]:
    seen = set() if seen_scripts is None else seen_scripts
    findings: list[HostFinding] = []
    for path in SYSTEM_CRONTABS:
        findings.extend(crontab_findings(host, path, True, seen))
    # anacrontab: period, delay, job id, command
    findings.extend(crontab_findings(host, ANACRONTAB, False, seen, fields=3))
    for directory in SYSTEM_CRONTAB_DIRS:
        for name in host.list_dir(directory):
            findings.extend(crontab_findings(host, f"{directory}/{name}", True, seen))
    for directory in USER_CRONTAB_DIRS:
        for name in host.list_dir(directory):
            path = f"{directory}/{name}"
            if not host.is_dir(path):
                findings.extend(crontab_findings(host, path, False, seen))
    for directory in SCRIPT_DIRS:
        for name in host.list_dir(directory):
            path = f"{directory}/{name}"
            resolved = host.resolve(path)
            if resolved is None or resolved in seen or host.is_dir(resolved):
                continue
            seen.add(resolved)
            findings.extend(scripts.script_findings(host, path, "cron"))
    return findings
