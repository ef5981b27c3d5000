"""Phrase groups for Figure 2.

The paper (Figure 2) projects the LSTM's final state for phrases that share their words
but differ in who does what to whom (left) or in voice and word order at the same
meaning (right), and finds that they cluster by meaning.  Our models are trained on
Multi30k image captions, whose vocabulary has no "John", "Mary" or "respects", so the
main figure uses caption words in the same constructions; the paper's own phrases are
used as well when the model's vocabulary knows every word of a panel.

Each panel lists (phrase, meaning): phrases with the same meaning label say the same
thing (same agent, same patient); phrases across labels use the same bag of words.
"""
from typing import Dict, List, Tuple

Panel = List[Tuple[str, str]]

# analogues in the Multi30k vocabulary (present continuous, as the captions)
CAPTION_PANELS: Dict[str, Panel] = {
    "who does what to whom": [
        ("A man is watching a dog .", "man -> dog"),
        ("A man is looking at a dog .", "man -> dog"),
        ("A man is playing with a dog .", "man -> dog"),
        ("A dog is watched by a man .", "man -> dog"),
        ("A dog is watching a man .", "dog -> man"),
        ("A dog is looking at a man .", "dog -> man"),
        ("A dog is playing with a man .", "dog -> man"),
        ("A man is watched by a dog .", "dog -> man"),
    ],
    "voice and word order": [
        ("A woman is holding a child in the park .", "woman -> child"),
        ("In the park , a woman is holding a child .", "woman -> child"),
        ("A child is held by a woman in the park .", "woman -> child"),
        ("A child is holding a woman in the park .", "child -> woman"),
        ("In the park , a child is holding a woman .", "child -> woman"),
        ("A woman is held by a child in the park .", "child -> woman"),
    ],
    "giving, voice and word order": [
        ("A boy is throwing a ball to a girl on the beach .", "boy -> girl"),
        ("On the beach , a boy is throwing a ball to a girl .", "boy -> girl"),
        ("A ball is thrown to a girl by a boy on the beach .", "boy -> girl"),
        ("A girl is throwing a ball to a boy on the beach .", "girl -> boy"),
        ("On the beach , a girl is throwing a ball to a boy .", "girl -> boy"),
        ("A ball is thrown to a boy by a girl on the beach .", "girl -> boy"),
    ],
}

# the paper's Figure 2, Moses-tokenized as our data is
PAPER_PANELS: Dict[str, Panel] = {
    "paper, left": [
        ("John respects Mary", "John -> Mary"),
        ("John admires Mary", "John -> Mary"),
        ("John is in love with Mary", "John -> Mary"),
        ("Mary respects John", "Mary -> John"),
        ("Mary admires John", "Mary -> John"),
        ("Mary is in love with John", "Mary -> John"),
    ],
    "paper, right": [
        ("I gave her a card in the garden", "I -> her"),
        ("In the garden , I gave her a card", "I -> her"),
        ("She was given a card by me in the garden", "I -> her"),
        ("She gave me a card in the garden", "she -> me"),
        ("In the garden , she gave me a card", "she -> me"),
        ("I was given a card by her in the garden", "she -> me"),
    ],
    # Multi30k's vocabulary lacks "gave" but has every other word of the right panel:
    # the same phrases with "handed" (shown beside the original when both are known)
    "paper, right, gave -> handed": [
        ("I handed her a card in the garden", "I -> her"),
        ("In the garden , I handed her a card", "I -> her"),
        ("She was handed a card by me in the garden", "I -> her"),
        ("She handed me a card in the garden", "she -> me"),
        ("In the garden , she handed me a card", "she -> me"),
        ("I was handed a card by her in the garden", "she -> me"),
    ],
}
