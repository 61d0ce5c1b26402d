from catalyst.domain.decisions import APPROVED, Approved, Rejected


def test_approved_is_a_value_equal_to_the_shared_instance() -> None:
    assert Approved() == APPROVED


def test_rejected_carries_reason_and_stable_rule_name() -> None:
    decision = Rejected("trading is halted", "halted")
    assert (decision.reason, decision.rule) == ("trading is halted", "halted")
    assert decision != Rejected("trading is halted", "paused")
