"""The shipped systemd unit: required directives, and systemd's own hardening score."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from catalyst.daemon.stopping import STOP_BOUND_SECONDS
from catalyst.exit_codes import ExitCode

UNIT = Path(__file__).resolve().parents[1] / "catalyst.service"
MAX_EXPOSURE = 2.5

Unit = dict[str, list[tuple[str, str]]]


def parse_unit(text: str) -> Unit:
    """Sections to (key, value) lists in file order; systemd allows repeated keys."""
    sections: Unit = {}
    current: list[tuple[str, str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        if current is None or "=" not in line:
            raise ValueError(f"unexpected line in unit: {raw!r}")
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def values(unit: Unit, section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


@pytest.fixture(scope="module")
def unit() -> Unit:
    return parse_unit(UNIT.read_text(encoding="utf-8"))


def test_parse_unit_keeps_repeated_keys_in_order() -> None:
    parsed = parse_unit("[Service]\n# c\nA=1\nA=2 3\n\n[Install]\nB=\n")
    assert parsed == {"Service": [("A", "1"), ("A", "2 3")], "Install": [("B", "")]}


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("Type", "notify"),
        ("NotifyAccess", "main"),
        ("ExecStart", "/opt/catalyst/.venv/bin/catalyst run --config /etc/catalyst"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("WatchdogSec", "30"),
        ("Restart", "on-failure"),
        ("RestartSec", "10"),
        ("TimeoutStopSec", "20"),
        ("KillMode", "mixed"),
        ("User", "catalyst"),
        ("Group", "catalyst"),
        ("StateDirectory", "catalyst"),
        ("EnvironmentFile", "-/etc/catalyst/catalyst.env"),
        ("Environment", "PYTHONUNBUFFERED=1"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectKernelLogs", "yes"),
        ("ProtectControlGroups", "yes"),
        ("ProtectClock", "yes"),
        ("ProtectHostname", "yes"),
        ("ProtectProc", "invisible"),
        ("ProcSubset", "pid"),
        ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
        ("RestrictNamespaces", "yes"),
        ("RestrictRealtime", "yes"),
        ("RestrictSUIDSGID", "yes"),
        ("LockPersonality", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
        ("SystemCallArchitectures", "native"),
        ("CapabilityBoundingSet", ""),
        ("AmbientCapabilities", ""),
        ("UMask", "0077"),
        ("DevicePolicy", "closed"),
    ],
)
def test_service_section_sets_required_directive(unit: Unit, key: str, expected: str) -> None:
    found = values(unit, "Service", key)
    # Environment may be given several times; each of the others must appear exactly once.
    assert expected in found if key == "Environment" else found == [expected]


def test_matplotlib_caches_in_the_units_own_cache_directory(unit: Unit) -> None:
    # ProtectHome hides the home directory: matplotlib's cache lives under CacheDirectory.
    assert values(unit, "Service", "CacheDirectory") == ["catalyst"]
    assert "MPLCONFIGDIR=/var/cache/catalyst/matplotlib" in values(unit, "Service", "Environment")


def test_stop_timeout_leaves_systemds_sigkill_well_behind_the_daemons_own_stop_bound(
    unit: Unit,
) -> None:
    (timeout,) = values(unit, "Service", "TimeoutStopSec")
    assert float(timeout) >= STOP_BOUND_SECONDS + 5


def test_system_call_filter_allows_system_service_minus_privileged_and_resources(
    unit: Unit,
) -> None:
    assert values(unit, "Service", "SystemCallFilter") == [
        "@system-service",
        "~@privileged @resources",
    ]


def test_unit_orders_after_network_online_and_postgresql_but_only_wants_the_network(
    unit: Unit,
) -> None:
    after = " ".join(values(unit, "Unit", "After")).split()
    wants = " ".join(values(unit, "Unit", "Wants")).split()
    assert {"network-online.target", "postgresql.service"} <= set(after)
    assert wants == ["network-online.target"]
    assert values(unit, "Unit", "Requires") == []


def test_no_ip_address_allow_or_deny_because_the_broker_is_remote(unit: Unit) -> None:
    assert values(unit, "Service", "IPAddressDeny") == []
    assert values(unit, "Service", "IPAddressAllow") == []


def test_unit_is_enabled_for_multi_user_boot(unit: Unit) -> None:
    assert values(unit, "Install", "WantedBy") == ["multi-user.target"]


def parse_exposure(output: str) -> float:
    """The number on systemd-analyze's 'Overall exposure level for X: 1.2 OK' line."""
    match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", output)
    if match is None:
        raise ValueError("no overall exposure level in systemd-analyze output")
    return float(match.group(1))


def test_parse_exposure_reads_the_overall_line() -> None:
    output = "✓ NoNewPrivileges= ...\n\n→ Overall exposure level for catalyst.service: 1.2 OK 🙂\n"
    assert parse_exposure(output) == 1.2
    with pytest.raises(ValueError, match="no overall exposure"):
        parse_exposure("nothing here")


def test_systemd_analyze_security_rates_unit_ok() -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    result = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert parse_exposure(result.stdout) <= MAX_EXPOSURE, result.stdout


def test_restart_prevent_exit_status_lists_exactly_the_permanent_exit_codes(unit: Unit) -> None:
    listed = " ".join(values(unit, "Service", "RestartPreventExitStatus")).split()
    assert sorted(int(code) for code in listed) == sorted(c for c in ExitCode if c.permanent)
    assert ExitCode.UNAVAILABLE not in {int(code) for code in listed}, "a restart may fix that"
