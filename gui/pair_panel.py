"""The pair panel: Apollo card | Salesforce card, the decision, and the actions.

The panel renders a :class:`core.store.details.PairDetails` (plain data) and emits commands;
it reads nothing and writes nothing itself. The email difference is drawn from
:func:`core.emails.diff`'s segments: the part only Apollo's address has on the Apollo card,
the part only Salesforce's has on the Salesforce card.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontDatabase
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core import emails, labels
from core.store.details import PairDetails, RecordCard, describe_edit
from gui import theme
from gui.icons import icon
from gui.keys import PAIR_COMMANDS


def diff_html(segments: list[emails.DiffSegment], side: str) -> str:
    """Rich text of one side's address with the part only it has highlighted."""
    mark = theme.hex_colour("diff_apollo_bg" if side == "apollo" else "diff_sf_bg")
    text_colour = theme.hex_colour("diff_text")
    out = []
    for seg in segments:
        own = seg.a if side == "apollo" else seg.b
        other = seg.b if side == "apollo" else seg.a
        if not own:
            # Nothing drawn where only the other address has characters: a marked blank
            # would read as a space inside this address. The other card highlights them.
            continue
        if seg.op == "equal":
            out.append(html.escape(own))
        else:
            out.append(f'<span style="background-color:{mark}; color:{text_colour}; '
                       f'font-weight:600;">{html.escape(own)}</span>')
    return "".join(out)


def hint_text(hint: str) -> str:
    """``apollo:gmail_dots`` → ``Apollo: gmail dots``."""
    system, _, what = hint.partition(":")
    if not what:
        return hint.replace("_", " ")
    return f"{labels.SIDE_NAMES.get(system, system)}: {what.replace('_', ' ')}"


def _label(text: str = "", *, wrap: bool = False, selectable: bool = True, name: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(wrap)
    label.setTextFormat(Qt.TextFormat.RichText)  # every text set is built with html.escape
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                      | Qt.TextInteractionFlag.LinksAccessibleByMouse)
    if name:
        label.setObjectName(name)
    return label


class Card(QFrame):
    """One system's record: name, the email (difference highlighted), facts, every field."""

    def __init__(self, system: str, parent=None):
        super().__init__(parent)
        self.system = system
        self.setObjectName("card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(4)
        head = QHBoxLayout()
        self.icon = QLabel()
        self.icon.setPixmap(icon("apollo" if system == "apollo" else "salesforce").pixmap(18, 18))
        head.addWidget(self.icon)
        self.title = _label("", name="cardTitle", selectable=False)
        head.addWidget(self.title, 1)
        # A button, not a rich-text link: one Tab stop that shows focus (a label's links
        # trap Shift+Tab inside the label).
        self.link = QToolButton()
        self.link.setObjectName("openLink")
        self.link.setAutoRaise(True)
        self.link.setText(f"Open in {'Apollo' if system == 'apollo' else 'Salesforce'} ↗")
        self.link.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.link.clicked.connect(lambda: QDesktopServices.openUrl(QUrl(self.link.toolTip())))
        head.addWidget(self.link)
        layout.addLayout(head)
        self.person = _label("", wrap=True, name="cardPerson")
        layout.addWidget(self.person)
        self.email = _label("", wrap=True, name="cardEmail")
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(mono.pointSizeF() * 1.15)
        self.email.setFont(mono)
        self.email.setAccessibleName(f"{'Apollo' if system == 'apollo' else 'Salesforce'} email")
        layout.addWidget(self.email)
        self.facts = _label("", wrap=True, name="cardFacts")
        layout.addWidget(self.facts)
        self.edit_time = _label("", wrap=True, name="cardMuted")
        layout.addWidget(self.edit_time)
        self.toggle = QToolButton()
        self.toggle.setText("All fields")
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.toggled.connect(self._toggle_fields)
        layout.addWidget(self.toggle)
        self.fields_box = QWidget()
        self.fields = QFormLayout(self.fields_box)
        self.fields.setContentsMargins(0, 0, 0, 0)
        self.fields.setHorizontalSpacing(10)
        self.fields.setVerticalSpacing(2)
        self.fields_box.setVisible(False)
        layout.addWidget(self.fields_box)
        layout.addStretch(1)

    def _toggle_fields(self, on: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.fields_box.setVisible(on)

    def show_side(self, side: RecordCard | None, diff: list[emails.DiffSegment], details: PairDetails) -> None:
        name = "Apollo contact" if self.system == "apollo" else "Salesforce"
        while self.fields.rowCount():
            self.fields.removeRow(0)
        if side is None:
            self.title.setText(f"<b>{name}</b>")
            self.link.setVisible(False)
            self.person.setText("No record on this side.")
            self.email.setText("—")
            self.facts.setText("")
            self.edit_time.setText("")
            self.toggle.setVisible(False)
            return
        record = side.record
        if self.system == "salesforce":
            name = f"Salesforce {record.get('object') or 'record'}"
        self.title.setText(f"<b>{html.escape(name)}</b>")
        self.link.setToolTip(side.url or "")
        self.link.setVisible(bool(side.url))
        person = f"{record.get('first_name', '')} {record.get('last_name', '')}".strip()
        company = record.get("organization_name") if self.system == "apollo" else record.get("company")
        self.person.setText(f"<b>{html.escape(person or '(no name)')}</b>"
                            + (f" · {html.escape(company)}" if company else ""))
        if not side.email:
            self.email.setText(f'<i style="color:{theme.hex_colour("muted")}">(blank)</i>')
        elif diff:
            self.email.setText(diff_html(diff, self.system))
        else:
            self.email.setText(html.escape(side.email))
        facts = self._facts(side)
        if self.system == "salesforce" and details.history:
            changes = [f"{html.escape(h['old_value'] or '(blank)')} → "
                       f"{html.escape(h['new_value'] or '(blank)')} "
                       f"({html.escape((h['changed_at'] or '')[:16].replace('T', ' '))})"
                       for h in details.history[-3:]]
            facts += ("<br>" if facts else "") + "Email history: " + "; ".join(changes)
        self.facts.setText(facts)
        self.edit_time.setText(html.escape(describe_edit(side.edit)))
        self.toggle.setVisible(True)
        for label, value in side.fields() + [("", "")] + side.raw_fields():
            if not label:
                sep = QLabel("From the API")
                sep.setObjectName("cardMuted")
                self.fields.addRow(sep)
                continue
            value_label = QLabel(value)
            value_label.setTextFormat(Qt.TextFormat.PlainText)
            value_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value_label.setWordWrap(True)
            key_label = QLabel(label)
            key_label.setObjectName("cardMuted")
            self.fields.addRow(key_label, value_label)

    def _facts(self, side: RecordCard) -> str:
        record = side.record
        bits = []
        if self.system == "apollo":
            status = record.get("email_status") or "unknown"
            colour = theme.hex_colour("danger" if status == "bounced" else
                                      "success" if status == "verified" else "muted")
            bits.append(f'Email status <span style="color:{colour}"><b>{html.escape(status)}</b></span>')
            if record.get("contact_stage"):
                bits.append(f"stage {html.escape(str(record['contact_stage']))}")
        else:
            if record.get("bounced_at"):
                reason = record.get("bounce_reason") or "no reason given"
                bits.append(f'<span style="color:{theme.hex_colour("danger")}"><b>Bounced</b> '
                            f'{html.escape(record["bounced_at"][:16].replace("T", " "))} ({html.escape(reason)})</span>')
            if record.get("is_converted"):
                bits.append(f"converted to Contact {html.escape(record.get('converted_contact_id') or '?')}")
        return " · ".join(bits)


class PairPanel(QWidget):
    """Both cards and the decision with its reasons (scrolling), and under them the action
    buttons and the address editor (never scrolled away)."""

    command = Signal(str)
    custom_email = Signal(str)  # the user typed a new address and confirmed it
    link_requested = Signal(str, str)  # apollo_id, sf_id of a suggestion to link

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("pairPanel")
        self.scroll = QScrollArea()
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a Tab stop that would show nothing
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        body.setObjectName("pairPanelBody")
        self.scroll.setWidget(body)
        panel = QVBoxLayout(self)
        panel.setContentsMargins(0, 0, 0, 0)
        panel.setSpacing(0)
        panel.addWidget(self.scroll, 1)
        self.actions_bar = QWidget()
        self.actions_bar.setObjectName("actionsBar")
        # Its width never holds the window wider than a small screen: the buttons take their
        # short texts instead (see _fit_buttons).
        self.actions_bar.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QVBoxLayout(self.actions_bar)
        bar.setContentsMargins(10, 4, 10, 6)
        bar.setSpacing(4)
        panel.addWidget(self.actions_bar)
        outer = QVBoxLayout(body)
        outer.setContentsMargins(10, 8, 10, 8)
        outer.setSpacing(8)

        self.placeholder = _label("Select a pair to see both records side by side.",
                                  name="cardMuted", selectable=False)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.placeholder)

        self.content = QWidget()
        content = QVBoxLayout(self.content)
        content.setContentsMargins(0, 0, 0, 0)
        content.setSpacing(8)
        outer.addWidget(self.content, 1)

        self.selection_note = _label("", wrap=True, name="selectionNote", selectable=False)
        self.selection_note.setVisible(False)
        content.addWidget(self.selection_note)

        cards = QGridLayout()
        cards.setHorizontalSpacing(8)
        self.apollo_card = Card("apollo")
        self.sf_card = Card("salesforce")
        self.arrow = _label("", name="panelArrow", selectable=False)
        self.arrow.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.arrow.setMinimumWidth(44)
        cards.addWidget(self.apollo_card, 0, 0)
        self.arrow.setContentsMargins(0, 36, 0, 0)
        cards.addWidget(self.arrow, 0, 1, Qt.AlignmentFlag.AlignTop)
        cards.addWidget(self.sf_card, 0, 2)
        cards.setColumnStretch(0, 1)
        cards.setColumnStretch(2, 1)
        content.addLayout(cards)

        self.decision = QFrame()
        self.decision.setObjectName("decisionBox")
        box = QVBoxLayout(self.decision)
        box.setContentsMargins(12, 8, 12, 8)
        box.setSpacing(4)
        self.native = _label("", wrap=True)
        self.recommendation = _label("", wrap=True)
        self.reason = _label("", wrap=True, name="cardMuted")
        self.choice = _label("", wrap=True)
        self.base = _label("", wrap=True, name="cardMuted")
        self.error = _label("", wrap=True, name="errorText")
        for widget in (self.native, self.recommendation, self.reason, self.choice, self.base,
                       self.error):
            box.addWidget(widget)

        self.suggestion_box = QFrame()
        self.suggestion_box.setObjectName("suggestionBox")
        suggestion = QHBoxLayout(self.suggestion_box)
        suggestion.setContentsMargins(0, 4, 0, 0)
        self.suggestion_text = _label("", wrap=True)
        suggestion.addWidget(self.suggestion_text, 1)
        self.link_button = QPushButton(icon("link"), "Link these")
        self.link_button.setToolTip("Link the two records as one pair (Concord never does this "
                                    "without you)")
        self.link_button.clicked.connect(self._link_clicked)
        suggestion.addWidget(self.link_button)
        box.addWidget(self.suggestion_box)
        self._suggestion = None

        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        self.buttons: dict[str, QPushButton] = {}
        for cmd in PAIR_COMMANDS:
            command = cmd.name
            button = QPushButton(icon(cmd.icon), cmd.label)
            button.setToolTip(f"{cmd.tip} (key {cmd.key_text})")
            button.setObjectName("goButton" if command == "go" else f"action_{command}")
            button.clicked.connect(lambda _=False, c=command: self.command.emit(c))
            button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
            self.buttons[command] = button
            buttons.addWidget(button)
        buttons.addStretch(1)
        bar.addLayout(buttons)
        self._button_row = buttons

        self.editor = QWidget()
        editor = QHBoxLayout(self.editor)
        editor.setContentsMargins(0, 0, 0, 0)
        self.editor_input = QLineEdit()
        self.editor_input.setPlaceholderText("Type the address both systems should hold")
        self.editor_input.setAccessibleName("New email address")
        self.editor_input.textChanged.connect(self._validate_typed)
        self.editor_input.returnPressed.connect(self._submit_typed)
        editor.addWidget(self.editor_input, 1)
        self.editor_ok = QPushButton("Use this address")
        self.editor_ok.clicked.connect(self._submit_typed)
        editor.addWidget(self.editor_ok)
        self.editor_cancel = QPushButton("Cancel")
        self.editor_cancel.clicked.connect(self.close_editor)
        self.editor_cancel.clicked.connect(lambda: self.command.emit("focus_list"))
        editor.addWidget(self.editor_cancel)
        bar.addWidget(self.editor)
        self.editor_error = _label("", wrap=True, name="errorText")
        bar.addWidget(self.editor_error)
        self.editor.setVisible(False)
        self.editor_error.setVisible(False)
        content.addWidget(self.decision)
        content.addStretch(1)
        self.details: PairDetails | None = None
        self.selection_size = 0
        self.show_details(None)
        self._short_buttons = None
        self.actions_bar.setMinimumWidth(self._buttons_width(short=True))
        self._fit_buttons()

    def _buttons_width(self, short: bool) -> int:
        margins = self.actions_bar.layout().contentsMargins()
        width = margins.left() + margins.right()
        for cmd in PAIR_COMMANDS:
            button = self.buttons[cmd.name]
            text = button.text()
            button.setText((cmd.short or cmd.label) if short else cmd.label)
            width += button.sizeHint().width() + self._button_row.spacing()
            button.setText(text)
        return width

    def _fit_buttons(self) -> None:
        """Full texts when they fit the panel's width, short ones (tooltips say it all) else."""
        short = self.width() < self._buttons_width(short=False)
        if short == self._short_buttons:
            return
        self._short_buttons = short
        for cmd in PAIR_COMMANDS:
            self.buttons[cmd.name].setText((cmd.short or cmd.label) if short else cmd.label)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_buttons()

    # -- showing ---------------------------------------------------------------------------------

    def show_details(self, details: PairDetails | None, selection_size: int = 1) -> None:
        self.details = details
        self.selection_size = selection_size
        self.placeholder.setVisible(details is None)
        self.content.setVisible(details is not None)
        self.actions_bar.setVisible(details is not None)
        if details is None:
            return
        self.apollo_card.show_side(details.apollo, details.diff, details)
        self.sf_card.show_side(details.salesforce, details.diff, details)
        d = details.decision
        direction = d.get("choice") or d.get("rec_winner")
        glyph = labels.direction_glyph(direction, d.get("rec_rule"))
        colour = theme.hex_colour("accent" if d.get("choice") else "muted")
        self.arrow.setText(f'<span style="font-size:26px; color:{colour}">{html.escape(glyph)}</span>')
        self.arrow.setToolTip(labels.direction_sentence(direction, d.get("choice_email")))
        native = labels.direction_sentence(d["native_winner"], rule=d["native_rule"])
        in_flight = (" <i>A Salesforce edit is in flight: Apollo will pull it within its next "
                     "sync.</i>") if d.get("in_flight") else ""
        self.native.setText(
            f"<b>Apollo's own sync:</b> "
            f"{labels.direction_glyph(d['native_winner'], d['native_rule'])} {html.escape(native)}"
            f" · {html.escape(labels.rule_words(d['native_rule']))}{in_flight}")
        self.native.setToolTip(f"Rule {d['native_rule']}")
        rec = labels.direction_sentence(d["rec_winner"], rule=d["rec_rule"])
        self.recommendation.setText(
            f"<b>Concord recommends:</b> {labels.direction_glyph(d['rec_winner'], d['rec_rule'])} "
            f"{html.escape(rec)} · {html.escape(labels.rule_words(d['rec_rule']))} · "
            f"{labels.STRENGTH_LABELS.get(d['strength'], d['strength']).lower()}")
        self.recommendation.setToolTip(f"Rule {d['rec_rule']}")
        self.reason.setText(html.escape(d.get("reason") or ""))
        if d.get("choice"):
            self.choice.setText(
                f'<b style="color:{theme.hex_colour("accent")}">Your choice:</b> '
                f"{labels.direction_glyph(d['choice'])} "
                f"{html.escape(labels.direction_sentence(d['choice'], d.get('choice_email')))} "
                f"· status {labels.STATUS_LABELS.get(d['status'], d['status']).lower()}")
        else:
            self.choice.setText(f"<b>Your choice:</b> none yet · status "
                                f"{labels.STATUS_LABELS.get(d['status'], d['status']).lower()}")
        base = []
        if details.base_email:
            when = (f" (agreed {details.base_synced_at[:16].replace('T', ' ')})"
                    if details.base_synced_at else "")
            base.append(f"Last agreed address (base): {html.escape(details.base_email)}{when}")
        elif not details.one_sided:
            base.append("No base: the two systems were never seen agreeing")
        base.append(labels.LINK_METHODS.get(details.method, f"linked by {details.method}"))
        if details.twin_id:
            base.append(f"Lead/Contact twin {html.escape(details.twin_id)}")
        if details.hints:
            base.append("Hints: " + ", ".join(hint_text(h) for h in details.hints))
        self.selection_note.setText(
            f"<b>{selection_size:,} pairs highlighted</b>: a key or button acts on all "
            f"{selection_size:,}. Below: the pair under the cursor.")
        self.selection_note.setVisible(selection_size > 1)
        self.base.setText(" · ".join(base))
        self.error.setText(html.escape(d.get("error") or ""))
        self.error.setVisible(bool(d.get("error")))
        self._suggestion = details.suggestions[0] if details.suggestions else None
        if self._suggestion is not None:
            s = self._suggestion
            other = "Salesforce record" if s.other_system == "salesforce" else "Apollo contact"
            self.suggestion_text.setText(
                f"<b>Possible match:</b> {other} {html.escape(s.other_name)} "
                f"&lt;{html.escape(s.other_email or 'no email')}&gt; · {s.score:.0f}% · "
                f"{html.escape(s.reason)}")
        self.suggestion_box.setVisible(self._suggestion is not None)
        two_sided = not details.one_sided
        decided = d.get("status") != "in_sync"
        for command in ("apollo", "salesforce", "skip", "go"):
            self.buttons[command].setEnabled(two_sided and decided or selection_size > 1)
        # A typed address is for one person: never for several highlighted pairs.
        self.buttons["edit"].setEnabled(two_sided and decided and selection_size == 1)
        self.buttons["accept"].setEnabled(d.get("rec_winner") in ("apollo", "salesforce")
                                          or selection_size > 1)
        self.buttons["revert"].setEnabled(bool(d.get("choice")) or selection_size > 1)
        if self.editor.isVisible() and not two_sided:
            self.close_editor()

    def retint(self) -> None:
        """Icons and colours again, for a new palette."""
        for cmd in PAIR_COMMANDS:
            self.buttons[cmd.name].setIcon(icon(cmd.icon))
        self.link_button.setIcon(icon("link"))
        if self.details is not None:
            self.show_details(self.details, self.selection_size)

    def needed_height(self) -> int:
        """The height that shows the cards, the decision and the buttons without scrolling."""
        body = self.scroll.widget().layout()
        width = self.scroll.viewport().width()
        height = (body.heightForWidth(width) if body.hasHeightForWidth()
                  else body.sizeHint().height())
        return height + self.actions_bar.sizeHint().height() + 2 * self.scroll.frameWidth()

    def focus_actions(self) -> None:
        """The keyboard to the first button that can act."""
        for button in self.buttons.values():
            if button.isEnabled() and button.isVisible():
                button.setFocus(Qt.FocusReason.ShortcutFocusReason)
                return

    def keyPressEvent(self, event) -> None:  # noqa: N802
        """Esc closes the address editor, or goes back to the list."""
        if event.key() == Qt.Key.Key_Escape:
            if self.editor.isVisible():
                self.close_editor()
            self.command.emit("focus_list")
            event.accept()
            return
        super().keyPressEvent(event)

    # -- typing a value -------------------------------------------------------------------------

    def open_editor(self) -> None:
        if self.details is None:
            return
        self.editor.setVisible(True)
        seed = ""
        if self.details.decision.get("choice") == "custom":
            seed = self.details.decision.get("choice_email") or ""
        elif self.details.salesforce is not None:
            seed = self.details.salesforce.email or ""
        self.editor_input.setText(seed)
        self.editor_input.selectAll()
        self.editor_input.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def close_editor(self) -> None:
        self.editor.setVisible(False)
        self.editor_error.setVisible(False)

    def _validate_typed(self, text: str) -> str | None:
        """Validate as Salesforce would (pure, no I/O); show the error inline."""
        try:
            cleaned = emails.validate(text, allow_unicode=bool(
                self.details and self.details.unicode_emails))
        except emails.EmailError as exc:
            self.editor_error.setText(f"Salesforce would reject this: {exc}.")
            self.editor_error.setVisible(bool(text.strip()))
            self.editor_ok.setEnabled(False)
            return None
        self.editor_error.setVisible(False)
        self.editor_ok.setEnabled(True)
        return cleaned

    def show_editor_error(self, text: str) -> None:
        self.editor_error.setText(text)
        self.editor_error.setVisible(True)

    def _submit_typed(self) -> None:
        cleaned = self._validate_typed(self.editor_input.text())
        if cleaned is None:
            self.editor_error.setVisible(True)
            return
        self.custom_email.emit(cleaned)

    def _link_clicked(self) -> None:
        if self._suggestion is not None:
            self.link_requested.emit(self._suggestion.apollo_id, self._suggestion.sf_id)
