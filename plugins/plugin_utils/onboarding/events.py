# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Translates Ansible callback events into model.Recorder calls.

Shared by the stdout callback ems.enable.onboarding (which also draws the screen) and the
notification callback ems.enable.onboarding_report (report files only, for runs whose stdout
callback is another one, e.g. AWX). Also finds the secrets to mask: the plaintext of every vaulted
value the play can see (inline ``!vault`` values and whole vault-encrypted variable files).
"""

from __future__ import annotations

import getpass
import os
import socket

from ansible import context
from ansible.module_utils.common.text.converters import to_text
from ansible.release import __version__ as ansible_version

from ansible_collections.ems.enable.plugins.plugin_utils.onboarding import model as om
from ansible_collections.ems.enable.plugins.plugin_utils.onboarding import writers as ow

try:  # ansible-core >= 2.19: data tagging
    from ansible.parsing.vault import EncryptedString
except ImportError:  # pragma: no cover - older cores
    EncryptedString = None
try:  # ansible-core < 2.19 (kept as an alias in 2.19)
    from ansible.parsing.yaml.objects import AnsibleVaultEncryptedUnicode
except ImportError:  # pragma: no cover
    AnsibleVaultEncryptedUnicode = None
try:  # ansible-core >= 2.19: where a value was loaded from, and values decrypted from !vault
    from ansible._internal._datatag._tags import Origin, VaultedValue  # pylint: disable=ansible-bad-import-from
except ImportError:  # pragma: no cover
    Origin = VaultedValue = None

ATTENDED_ROLE = "attended_step"
#: the run's report directory, exported at the start of the run (see _ev_reserve_report_dir)
RUN_REPORT_DIR_ENV = "EMS_RUN_REPORT_DIR"
QUIET_ACTIONS = frozenset((
    "meta", "ansible.builtin.meta", "ansible.legacy.meta",
    "include_role", "ansible.builtin.include_role", "include_tasks", "ansible.builtin.include_tasks",
    "import_role", "ansible.builtin.import_role", "import_tasks", "ansible.builtin.import_tasks",
    "validate_argument_spec", "ansible.builtin.validate_argument_spec",
))
VAULT_HEADER = b"$ANSIBLE_VAULT;"


def short_role_name(role):
    if role is None:
        return None
    try:
        name = role.get_name(include_role_fqcn=False)
    except TypeError:  # pragma: no cover
        name = role.get_name()
    return to_text(name).rsplit(".", 1)[-1]


def enclosing_role(task):
    """For a task of the attended_step role: the role that included it (its component)."""
    parent = getattr(task, "_parent", None)
    while parent is not None:
        parent_role = getattr(parent, "_parent_role", None)
        if parent_role is not None and short_role_name(parent_role) != ATTENDED_ROLE:
            return short_role_name(parent_role)
        parent = getattr(parent, "_parent", None)
    return None


def phase_of(play_name, playbook_path, play_vars):
    """(display name, key) of a play's phase: play var ems_phase, else the play name's prefix
    before ' | ', else the playbook's file name."""
    phase = play_vars.get("ems_phase") if isinstance(play_vars, dict) else None
    if not isinstance(phase, str) or "{{" in phase or not phase.strip():
        phase = None
        if " | " in (play_name or ""):
            phase = play_name.split(" | ", 1)[0].strip()
        elif playbook_path:
            phase = os.path.splitext(os.path.basename(playbook_path))[0].replace("_", " ").capitalize()
        else:
            phase = "Run"
    key = "_".join(phase.lower().split())
    return phase, key


def task_status(kind, result, task=None):
    """Map a callback event to a recorder status."""
    if kind == "failed":
        return "ignored" if getattr(task, "ignore_errors", False) else "failed"
    if kind == "ok":
        return "changed" if result.get("changed") else "ok"
    return kind


class OnboardingEvents:
    """Mixin for a CallbackBase subclass: keeps ``self.recorder`` up to date.

    The subclass calls ``_ev_*`` from its v2_* methods and ``_ev_write_reports()`` at the end.
    """

    def _ev_init(self):
        self.recorder = om.Recorder()
        self._ev_playbook_path = None
        self._ev_play = None
        self._ev_phase = None
        self._ev_scanned_files = set()
        self._ev_written = {}
        self._ev_report_dir = None

    # -- run facts --------------------------------------------------------------------------
    def _ev_run_meta(self):
        args = context.CLIARGS or {}
        meta = {
            "ansible_version": ansible_version,
            "collection_version": _collection_version(),
            "check_mode": bool(args.get("check")),
            "diff_mode": bool(args.get("diff")),
            "inventory": [_relative(p) for p in (args.get("inventory") or [])],
            "limit": args.get("subset") or None,
            "tags": [t for t in (args.get("tags") or []) if t != "all"],
        }
        try:
            meta["controller"] = socket.gethostname()
            meta["user"] = getpass.getuser()
        except (OSError, KeyError):  # pragma: no cover
            pass
        return meta

    def _ev_playbook(self, playbook):
        path = to_text(getattr(playbook, "_file_name", "") or "")
        self._ev_playbook_path = path
        self.recorder.playbook(_relative(path))
        if not self.recorder.meta:
            self.recorder.meta = self._ev_run_meta()
        self._ev_loader = getattr(playbook, "_loader", None)

    def _ev_play_start(self, play):
        self._ev_play = play
        name = to_text(play.get_name()).strip()
        play_vars = getattr(play, "vars", None) or {}
        phase, key = phase_of(name, self._ev_playbook_path, play_vars)
        hosts = []
        variable_manager = play.get_variable_manager() if hasattr(play, "get_variable_manager") else None
        inventory = getattr(variable_manager, "_inventory", None)
        if inventory is not None:
            try:
                hosts = [h.name for h in inventory.get_hosts(play.hosts)]
            except Exception:  # pylint: disable=broad-except  # display only: never break the run
                hosts = []
        self._ev_collect_secrets(play, variable_manager, inventory, hosts)
        check_mode = bool((context.CLIARGS or {}).get("check"))
        self._ev_phase = self.recorder.play(self.recorder.redactor.text(name), phase, key, hosts, check_mode)
        return self._ev_phase

    def _ev_task_start(self, task, handler=False):
        role = own_role = short_role_name(getattr(task, "_role", None))
        internal = role == ATTENDED_ROLE
        if internal:
            role = enclosing_role(task)
        phase_key = self._ev_phase["key"] if self._ev_phase else "run"
        component = role or phase_key
        action = to_text(getattr(task, "resolved_action", None) or task.action)
        name = to_text(task.get_name()).strip()
        if own_role and " : " in name and name.split(" : ", 1)[0].strip().rsplit(".", 1)[-1] == own_role:
            name = name.split(" : ", 1)[1].strip()  # 'role : task' -> 'task' (the role has its own header)
        name = _strip_prefix(name, [self._ev_phase["name"] if self._ev_phase else None, role,
                                    ATTENDED_ROLE if internal else None])
        role_record, closed = self.recorder.task(
            task._uuid, name, role, component, action, tags=getattr(task, "tags", None) or (),
            handler=handler, path=to_text(task.get_path()) if hasattr(task, "get_path") else None)
        record = self.recorder.current_task()
        record["quiet"] = action in QUIET_ACTIONS or (internal and not action.endswith("attended_step"))
        return record, role_record, closed

    def _ev_result(self, kind, result):
        task = result.task if hasattr(result, "task") else result._task
        host = result.host if hasattr(result, "host") else result._host
        data = result.result if hasattr(result, "result") else result._result
        status = task_status(kind, data, task)
        if task._uuid not in self.recorder._tasks:  # a result before its start event (implicit tasks)
            self._ev_task_start(task)
        return self.recorder.result(task._uuid, host.get_name(), status, data)

    def _ev_stats(self, stats):
        per_host = {}
        for host in sorted(stats.processed.keys()):
            per_host[host] = stats.summarize(host)
        self.recorder.stats(per_host)

    # -- secrets --------------------------------------------------------------------------
    def _ev_collect_secrets(self, play, variable_manager, inventory, hosts):
        redactor = self.recorder.redactor
        loader = getattr(variable_manager, "_loader", None) or getattr(self, "_ev_loader", None)
        # 1. whole vault-encrypted files next to the inventories and the playbook (any core version)
        bases = []
        for source in ((context.CLIARGS or {}).get("inventory") or []):
            source = os.path.abspath(to_text(source))
            bases.append(source if os.path.isdir(source) else os.path.dirname(source))
        if self._ev_playbook_path:
            bases.append(os.path.dirname(os.path.abspath(self._ev_playbook_path)))
        for base in bases:
            for sub in ("group_vars", "host_vars"):
                for path in _files_under(os.path.join(base, sub)):
                    self._ev_scan_vault_file(path, loader)
        for path in getattr(play, "vars_files", None) or []:
            if isinstance(path, str) and "{{" not in path:
                full = path if os.path.isabs(path) else os.path.join(os.path.dirname(
                    os.path.abspath(self._ev_playbook_path or ".")), path)
                self._ev_scan_vault_file(full, loader)
        # 2. inline !vault values anywhere in the variables a host sees (and, on 2.19, values
        #    whose origin is an encrypted file, e.g. vars_files or extra vars files)
        if variable_manager is None:
            return
        seen = set()
        for host_name in hosts or [None]:
            host = inventory.get_host(host_name) if (inventory is not None and host_name) else None
            try:
                all_vars = variable_manager.get_vars(play=play, host=host, include_hostvars=False)
            except Exception:  # pylint: disable=broad-except  # masking is best effort per host
                continue
            self._ev_walk(all_vars, redactor, seen, 0)
            # the same variables name the customer for the report's title (inventory variable
            # ems_customer, a plain string; the first host that has one)
            customer = all_vars.get("ems_customer")
            if "customer" not in self.recorder.meta and isinstance(customer, str) and customer.strip() \
                    and "{{" not in customer:
                self.recorder.meta["customer"] = redactor.text(customer.strip())

    def _ev_scan_vault_file(self, path, loader):
        if path in self._ev_scanned_files or loader is None:
            return
        self._ev_scanned_files.add(path)
        if not _is_vault_file(path):
            return
        try:
            data = loader.load_from_file(path)
        except Exception:  # pylint: disable=broad-except  # undecryptable here: Ansible reports it
            return
        _walk_strings(data, self.recorder.redactor.add)

    def _ev_walk(self, obj, redactor, seen, depth):
        if depth > 40:
            return
        if EncryptedString is not None and isinstance(obj, EncryptedString):
            try:
                redactor.add(str(obj))
            except Exception:  # pylint: disable=broad-except  # no vault secret for it: nothing to mask
                pass
            return
        if AnsibleVaultEncryptedUnicode is not None and isinstance(obj, AnsibleVaultEncryptedUnicode):
            try:
                redactor.add(to_text(obj.data))
            except Exception:  # pylint: disable=broad-except
                pass
            return
        if isinstance(obj, str):
            if VaultedValue is not None and VaultedValue.is_tagged_on(obj):
                redactor.add(str(obj))
            elif Origin is not None:
                origin = Origin.get_tag(obj)
                if origin is not None and origin.path and _is_vault_file(origin.path):
                    redactor.add(str(obj))
            return
        if isinstance(obj, dict):
            marker = id(obj)
            if marker in seen:
                return
            seen.add(marker)
            for value in obj.values():
                self._ev_walk(value, redactor, seen, depth + 1)
        elif isinstance(obj, (list, tuple, set)):
            marker = id(obj)
            if marker in seen:
                return
            seen.add(marker)
            for value in obj:
                self._ev_walk(value, redactor, seen, depth + 1)

    # -- report -----------------------------------------------------------------------------
    def _ev_reserve_report_dir(self, enabled, base_dir):
        """At the start of the run: create the run's report directory (base_dir/<run id>) and
        export it as EMS_RUN_REPORT_DIR, so files that tasks write for the report (the directory
        readiness CSV/JSON: its role's default output_dir) land inside it and the report can link
        them relatively. Worker processes are forked per task and inherit the variable."""
        if not enabled or self._ev_report_dir:
            return
        try:
            self._ev_report_dir = ow.report_directory(to_text(base_dir), om.run_id(self.recorder.started))
        except OSError as err:
            self._display.warning("ems.enable onboarding report directory not created in %s: %s" % (base_dir, err))
            return
        os.environ[RUN_REPORT_DIR_ENV] = os.path.abspath(self._ev_report_dir)

    def _ev_write_reports(self, enabled, base_dir, formats):
        """Write the report files once; returns {format: path} (empty when disabled or failed)."""
        model = self.recorder.finish()
        if not enabled or not formats:
            return {}
        try:
            directory = self._ev_report_dir
            if not directory or not os.path.isdir(directory):
                directory = ow.report_directory(to_text(base_dir), model["run"]["id"])
            self._ev_report_dir = directory
            model["run"]["report_dir"] = _relative(directory)
            self._ev_written = ow.write_reports(model, directory, formats)
        except OSError as err:
            self._display.warning("ems.enable onboarding report not written to %s: %s" % (base_dir, err))
            return {}
        return self._ev_written


_VAULT_CACHE = {}


def _is_vault_file(path):
    path = to_text(path)
    if path not in _VAULT_CACHE:
        try:
            with open(path, "rb") as stream:
                _VAULT_CACHE[path] = stream.read(len(VAULT_HEADER)) == VAULT_HEADER
        except OSError:
            _VAULT_CACHE[path] = False
    return _VAULT_CACHE[path]


def _files_under(directory):
    if not os.path.isdir(directory):
        return
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in sorted(files):
            if not name.startswith("."):
                yield os.path.join(root, name)


def _walk_strings(obj, visit, depth=0):
    if depth > 40:
        return
    if isinstance(obj, dict):
        for value in obj.values():
            _walk_strings(value, visit, depth + 1)
    elif isinstance(obj, (list, tuple, set)):
        for value in obj:
            _walk_strings(value, visit, depth + 1)
    elif obj is not None and not isinstance(obj, (bool, int, float)):
        try:
            visit(str(obj))
        except Exception:  # pylint: disable=broad-except
            pass


def _strip_prefix(name, prefixes):
    for prefix in prefixes:
        if prefix and name.lower().startswith(prefix.lower() + " | "):
            return name[len(prefix) + 3:]
    return name


def _relative(path):
    path = to_text(path)
    try:
        rel = os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return path
    return rel if not rel.startswith("..") else path


def _collection_version():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    for name in ("MANIFEST.json", "galaxy.yml"):
        path = os.path.join(root, name)
        try:
            with open(path, encoding="utf-8") as stream:
                for line in stream:
                    stripped = line.strip().strip(",")
                    if stripped.startswith(("version:", '"version":')):
                        return stripped.split(":", 1)[1].strip().strip('"').strip("'")
        except OSError:
            continue
    return None
