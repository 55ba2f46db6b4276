# Guest images (placeholder until guests/ lands): defines GUEST_ELFS.
GUEST_ELFS :=
