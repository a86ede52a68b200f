"""Settings: Apollo's push/pull settings mirrored, and Concord's policy.

The dialog edits a :class:`core.model.Settings` value and returns a new one; the window
saves it and re-decides every pair (the settings change what Apollo will do).
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
)

from core.model import CreatePolicy, Preset, Settings, Strength
from gui.theme import THEMES

POLICY_LABELS = {
    CreatePolicy.OFF: "Off: never create Salesforce records for new Apollo contacts",
    CreatePolicy.ON: "On: create a Salesforce record for every new Apollo contact",
    CreatePolicy.STAGES: "Only for contacts at the stages below",
}
PRESET_LABELS = {
    Preset.MOST_RECENT_EDIT: "Most recent edit wins (what Apollo does)",
    Preset.SALESFORCE_MASTER: "Salesforce is the source of truth",
    Preset.APOLLO_MASTER: "Apollo is the source of truth",
    Preset.VERIFIED_WINS: "Verified address wins",
}
AUTO_APPLY_LABELS = {
    Strength.STRONG: "Strong only (recommended)",
    Strength.MEDIUM: "Strong and medium",
    Strength.REVIEW: "Everything with a direction, even what needs review",
}


class SettingsDialog(QDialog):
    """Edit the workspace settings; :meth:`settings` is the result.

    Combo boxes hold the enums' string values (Qt turns a ``str`` enum into a plain string)
    and :meth:`settings` turns them back into the enums the rules compare against.
    """

    def __init__(self, settings: Settings, stages: list[str], parent=None,
                 theme: str = "system"):
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self._original = settings
        layout = QVBoxLayout(self)

        apollo = QGroupBox("Apollo's Salesforce settings (as set in Apollo)")
        form = QFormLayout(apollo)
        self.policy = QComboBox()
        for policy, text in POLICY_LABELS.items():
            self.policy.addItem(text, policy.value)
        self.policy.setCurrentIndex(list(POLICY_LABELS).index(settings.create_policy))
        self.policy.currentIndexChanged.connect(self._policy_changed)
        form.addRow("Create records for new contacts", self.policy)
        self.stages = QListWidget()
        self.stages.setMaximumHeight(120)
        known = list(dict.fromkeys(list(stages) + list(settings.create_stages)))
        for stage in known:
            item = QListWidgetItem(stage)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if stage in settings.create_stages
                               else Qt.CheckState.Unchecked)
            self.stages.addItem(item)
        form.addRow("Stages that create", self.stages)
        create_as = QHBoxLayout()
        self.as_lead = QRadioButton("Lead")
        self.as_contact = QRadioButton("Contact")
        group = QButtonGroup(self)
        group.addButton(self.as_lead)
        group.addButton(self.as_contact)
        (self.as_contact if settings.create_as == "Contact" else self.as_lead).setChecked(True)
        create_as.addWidget(self.as_lead)
        create_as.addWidget(self.as_contact)
        create_as.addStretch(1)
        form.addRow("Create them as", create_as)
        self.manage = QCheckBox("Manage records In CRM as Apollo contacts")
        self.manage.setChecked(settings.manage_crm_as_contacts)
        form.addRow("", self.manage)
        self.pull_minutes = QSpinBox()
        self.pull_minutes.setRange(5, 24 * 60)
        self.pull_minutes.setSuffix(" min")
        self.pull_minutes.setValue(settings.apollo_pull_minutes)
        form.addRow("Apollo pulls Salesforce every", self.pull_minutes)
        note = QLabel("Updates to existing records are always pushed by Apollo and cannot be "
                      "turned off; only creation is configurable.")
        note.setWordWrap(True)
        note.setObjectName("cardMuted")
        form.addRow(note)
        layout.addWidget(apollo)

        policy = QGroupBox("Concord's recommendation")
        form = QFormLayout(policy)
        self.preset = QComboBox()
        for preset, text in PRESET_LABELS.items():
            self.preset.addItem(text, preset.value)
        self.preset.setCurrentIndex(list(PRESET_LABELS).index(settings.preset))
        form.addRow("Policy", self.preset)
        self.auto_apply = QComboBox()
        for strength, text in AUTO_APPLY_LABELS.items():
            self.auto_apply.addItem(text, strength.value)
        current = settings.auto_apply if settings.auto_apply in AUTO_APPLY_LABELS else Strength.STRONG
        self.auto_apply.setCurrentIndex(list(AUTO_APPLY_LABELS).index(current))
        form.addRow("Reconcile all applies", self.auto_apply)
        self.unicode = QCheckBox("Salesforce accepts international addresses (EAI is enabled)")
        self.unicode.setChecked(settings.unicode_emails)
        form.addRow("", self.unicode)
        guards = QLabel("The quality guards always apply: a blank, invalid or bounced address "
                        "never wins over a good one.")
        guards.setWordWrap(True)
        guards.setObjectName("cardMuted")
        form.addRow(guards)
        layout.addWidget(policy)

        window = QGroupBox("This window")
        form = QFormLayout(window)
        self.theme_combo = QComboBox()
        for value, text in THEMES.items():
            self.theme_combo.addItem(text, value)
        self.theme_combo.setCurrentIndex(max(self.theme_combo.findData(theme), 0))
        form.addRow("Theme", self.theme_combo)
        layout.addWidget(window)

        notice = QLabel("Saving re-decides every pair with the new settings; your choices stay.")
        notice.setWordWrap(True)
        layout.addWidget(notice)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._policy_changed()

    def _policy_changed(self) -> None:
        self.stages.setEnabled(self.policy.currentData() == CreatePolicy.STAGES.value)

    def theme(self) -> str:
        """The theme chosen: ``system``, ``light`` or ``dark``."""
        return self.theme_combo.currentData()

    def settings(self) -> Settings:
        """The settings as edited."""
        stages = tuple(self.stages.item(i).text() for i in range(self.stages.count())
                       if self.stages.item(i).checkState() == Qt.CheckState.Checked)
        return dataclasses.replace(
            self._original,
            create_policy=CreatePolicy(self.policy.currentData()),
            create_stages=stages,
            create_as="Contact" if self.as_contact.isChecked() else "Lead",
            manage_crm_as_contacts=self.manage.isChecked(),
            apollo_pull_minutes=self.pull_minutes.value(),
            preset=Preset(self.preset.currentData()),
            auto_apply=Strength(self.auto_apply.currentData()),
            unicode_emails=self.unicode.isChecked(),
        )
