"""The decoding rules over the slot filler's scores (SpanRules; stdlib only).

Each rule is a field with its default, its measure and where it lives (mostly runtime/fill.py; the
list rules in runtime/lists.py, the value rewrites in runtime/rewrite.py, the further-call rules in
runtime/further.py, ranges in runtime/ranges.py). ``SpanRules.off()`` turns
every rule off: the ablation. ``edgeagent eval dev --set rules.<field>=<value>`` sets one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class SpanRules:
    """Decoding rules on top of the head's scores, chosen on the dev split with the gold function
    given (227 calls, start anchors at the pipeline's settings; values exact / calls exact, all rules
    off: 41.5% / 20.7%; length_penalty alone 0.05 / 0.1 / 0.15 / 0.25 / 0.5 / 1: values 47.1 / 49.0 /
    50.0 / 50.6 / 46.7 / 42.5%; absent_bias 0.5 / 1 / 2 / 3 with the others: calls 35.2 / 35.2 / 37.4 /
    37.4%; all on but whole_chunks, the request's named properties spared: 56.0% / 39.2%; all on:
    57.3% / 41.9%; docs/measures-history.md
    and docs/dev-e2e-rules for the pipeline end to end). ``SpanRules.off()``: the ablation.

    length_penalty: per extra token, subtracted from a span's score (the shortest span the head is
        nearly as sure of wins: "2022-01-01", not "2022-01-01 in the morning").
    sentence_stop: a copied span does not cross a sentence end (sentence_stops).
    empty_strings: allow "" as a value: a required string may route NULL, and an optional value
        marked present may stay empty. Off, a required string is copied or generated, and a
        present-marked optional value left empty is dropped.
    absent_bias: added to the score of leaving an optional property out (its presence or NULL
        route; array items are not affected).
    free_calls: absent_bias is not added for a function with no required property (SGD's
        LookupMusic: genre, artist and album all optional), where the head's own NULL score decides
        alone; with the bias, "I'd like to hear some Pop and Country music" came out as LookupMusic {}.
        On dev (docs/dev-s27/free-calls-*): the listed requests' calls exact 35.2 -> 37.0% and values
        exact 46.4 -> 47.4% (values precise 65.9 -> 64.1%); the default set changed one call (still
        wrong), the splits none; BFCL (scored after) changed no answer. Of the training split's 938
        SGD calls of such functions, 627 hold a value and 311 none: the head learned how often such a
        call is empty, and the bias pushed it further.
    whole_numbers: a number copied from the conversation takes its decimals and thousands groups
        ("90.5", "100,000"), not just the digits before the first "." or ",".
    list_items: where an array's first item is copied and the conversation goes on with a list
        ("5, 10, 15 and 20"), the next items are that list's elements, in order; items past its end
        are left out (list_elements). A list longer than the array's item places (the scaffold's
        array_items, 6) is copied whole: the pipeline appends the rest (FillInfo.beyond,
        with_beyond) where the schema allows.
    whole_chunks: a copied string is whole white-space-delimited chunks ("2022-03-11", not "2022";
        the whole URL), trimmed of the sentence punctuation at its edges (trim_edges); every copied
        span snaps over up to 32 tokens of its word, not 4 ("rs6034464", not "rs60344").
    conversation_only: a value is copied from the conversation, never from the system prompt's tool
        listing (tool_listing; "San Francisco" out of a description's "e.g. San Francisco, CA").
        Off: on the dev split it changed 7 items' calls, none to right, and lost one value (values
        exact 47.4% against 47.6% end to end; 57.1% / 57.3% with the gold function): some values
        are in the listing ("home" from a description's list of positions).
    list_goes_on: where a call's value sits in a list the request closes with "and" / "or" and an
        element of that list has no call yet, the turn goes on with another call of the same
        function whatever the another-call head says (runtime/pipeline.py; next_in_list).
    lists_first: where list_goes_on has an element left for a call's function, the element's call is
        the next one, even where the another-call head asks for another call (those follow the list),
        and it is the last call with only that value moved, not a fresh fill, which moves every
        value off the words earlier calls copied ("I weigh 70 kilograms and my height is 1.75 and
        1.93 meters": weight stays 70). Off: the list goes on only where the head says "end", and
        the element replaces its value in a fresh fill.
    copy_numbers: a number or integer value is copied from a number of the conversation (number_starts:
        whole numbers, never "6, 80" or the "2" of "x2"), the best-started one that reads as the slot's
        kind ("2.5" is no integer), wherever the conversation has one; it is generated only where it
        has none. On the dev split 133 of the 138 numbers calls hold are written in the request; the
        head's generated numbers and copied spans that run past a number were errors. With the gold
        function: calls 41.9 -> 42.7%, values 57.3 -> 58.7% (16 values fixed, 8 broken, most of both
        in merged repeats); end to end (docs/dev-e2e-numbers) calls 19.1 -> 20.6%, values 47.4 -> 47.9%.
    clock_24h: a copied string that is a time on the 12-hour clock is written on the 24-hour one ("1 pm"
        -> "13:00"; clock_24h), the training data's convention: 37 of its 43 times of day are written
        HH:MM. With the gold function: values 58.7 -> 59.3% (three fixed, none broken), calls unchanged;
        end to end (docs/dev-e2e-clock) values 47.9 -> 48.3%, calls 20.6% both.
    fresh_repeats: where a turn calls a function again, subtracted from the start score of the
        context positions its earlier calls copied the same property's value from (merged requests
        say "... 70 kilograms and 1.75 meters. Also ... 40 kilograms and 0.59 meters": the second
        call's height is the other one). A value both calls share and the request writes once
        still wins where nothing else scores near it. End to end on dev, calls exact / values exact
        (off: 27.2% / 56.0%): 1: 27.9 / 56.2%, 2: 27.9 / 56.9% (docs/dev-e2e-fresh), 4: 29.4 / 57.8%
        (docs/dev-e2e-fresh4), 8: 29.4 / 57.8%; the smaller of the tied best. At 4 the merged BMI
        and loan requests get both calls right (each had copied a value of the first call again).
    optional_echoes: "turn": an optional property's copied value that overlaps a value another
        property holds (a required one of this call, or any an earlier call of the turn copied) is
        left out ("years_of_experience": 2021 where 2021 was the first call's year); "call": only
        against this call's required values; "keep": off. A property the request names is spared.
        End to end on dev (136 tool items), calls exact and values exact stay 29.4% / 57.8% in all
        three; values precise (of the values the calls hold, the share equal to the reference's):
        keep 54.1%, call 54.9%, turn 56.2% (docs/dev-e2e-echoes).
    drop_articles: a copied string drops a leading lowercase article ("a crime scene" -> "crime
        scene"; drop_article). End to end on dev, calls exact 29.4% both, values exact 58.0 ->
        59.1%, values precise 56.6 -> 57.3% (docs/dev-e2e-articles): six values right, none lost.
    stated_values: a call's one ISO date value takes the day (and month) of the latest date the
        conversation's prose states, its one "HH:MM" value the latest time, and its one head count
        in a string the latest count (runtime/stated.py; the pipeline applies it to the finished
        call, whatever wrote the value; the eval's AR baselines (a) and (b) run with it off). End
        to end on dev, calls exact 29.4 -> 34.6%, values exact 59.1 -> 62.1%, values precise
        57.3 -> 60.3% (docs/dev-e2e-stated, docs/dev-e2e-counts): 20 items changed, none broken.
    disjoint_spans: two properties of a call do not copy the same words. A copied string whose span
        overlaps a shorter one ("technology sector in the United States" for `sector` over "United
        States" for `country`), or the same words with a lower start + end score, is decoded again
        from its own scores around it (_part_spans): "technology". End to end on dev, calls exact /
        values exact / values precise, with fresh_calls (docs/dev-disjoint): the splits 52.6 -> 63.2%
        / 63.2 -> 67.7% / 56.6 -> 63.9%; the default dev set 33.8% both / 62.3 -> 63.0% / 60.8 ->
        62.3%. Shorter spans alone gave the splits 60.5% / 69.1%; parting equal spans gained one call
        there and lost three values over both sets.
    fresh_calls: a further call of a function the turn already called must bring news: a value that
        differs from each earlier call's and, where copied, comes from words of the conversation no
        earlier call of the function copied (runtime/further.py brings_news). A call that copies
        the first call's words again, for any property, or its own written arguments, ends the turn
        ("waste_type": "open windrow" where the first call had it as `compost_type`). A call the
        list rules keep going (list_goes_on, list_items) is theirs to judge.
    list_split: a call's copied string value that is itself a list the request closes with "and" /
        "or" ("Sonoma and Marshall" for `city`) takes its first element, and list_goes_on gives the
        others their calls. Only where the property holds one value: a string without an enum whose
        name's last word is not a plural ("ingredients", "personality_traits") and whose description
        says no "list", "comma", "separated" or "multiple"; each element at most four words, and no
        sentence (a value ending in "."). Of the 8,172 string values in the cpu recipe's calls, 10
        are such lists ("Cozy Inn Bed and Breakfast", "Buy milk, eggs, and bread"). On the dev set's
        54 listed requests (`eval dev --lists only`; docs/dev-lists), calls exact / values exact /
        values precise 5.6 / 17.9 / 56.5% -> 11.1 / 22.4 / 59.5%; with next_in_list reading a closed
        list back from its last or middle element, 16.7 / 30.6 / 65.9%; with elements of names
        ending at their capitalized words and list elements taking the enum member they name
        (runtime/further.py enum_member), 22.2 / 32.1 / 71.6%; with a long first element starting
        after its last preposition ("What's the weather in Napa and Vancouver"), 24.1 / 33.7 / 73.3%.
        The default dev set and the splits kept their calls exact.
    bare_words: a copied string drops a leading lowercase preposition and lowercase function words
        at its end (bare_words; "to Las Vegas" -> "Las Vegas"); a quoted one stays as written. On
        the default dev set one value gained ("to Las Vegas"), none lost.
    named_members: an optional property a call leaves out takes the member of its string enum that
        the request names in so many words ("some Reggae songs" -> genre "Reggae"; the first of a
        list of them, "Pop and Country", whose others list_goes_on calls for); not flags ("True",
        "dontcare") or members under three letters (runtime/rewrite.py with_named_members). On the
        default dev set one call became exact (FindAttractions "Park"), nothing else changed; the
        splits and the listed requests kept every answer (docs/dev-lists).
    other_clauses: taken off the start scores of the request's segments that belong to another
        listed tool and hold none of this call's tool's words (runtime/clauses.py away). Off (0) by
        default: on the default dev set's 49 Seal-Tools items (the ones with requests for several
        tools; docs/dev-clauses), calls exact / values exact / values precise were 16.3 / 61.4 /
        56.8% at 0, 16.3 / 61.8 / 53.4% at 2, and 16.3 / 61.1 / 52.3% at 4 (without
        percent_fractions and the bracket trim, which add 0.3 points of values at 0): the values the
        rule moves off another tool's sentence land on other wrong words as often as on right
        ones, and the changed first calls let the turn go on with extra calls. The splits and the
        listed requests kept every answer at 4.
    percent_fractions: a number the request writes as a percentage ("9%") is divided by 100 where
        its property's description asks for a decimal ("e.g., 0.05 for 5%"; runtime/percent.py).
        On the default dev set it changes three Seal-Tools counterfactuals, whose reference keeps
        the original record's 0.05 for the "9%" the rewritten request says (so none scores right
        either way); in ../shared/data's calls it holds for 61 of 62 such values.
    keyed_numbers: added to the start score of each number the conversation writes right after the
        property's name ("acceleration of 9.8", "b=-3"; runtime/keyed.py); 100 outweighs any start
        score, so the head only picks among such numbers where there are several. On the training
        split, 217 of the 221 number values written so are one of those numbers. On dev, calls exact
        / values exact / values precise: the default set 35.3 / 63.7 / 63.6% either way (one wrong
        value changed to another), the splits the same answers, the listed requests 25.9 / 34.2 /
        77.0 -> 27.8 / 36.2 / 78.9% (with next_in_list finding "10" whole, not in "$1000";
        docs/dev-s18).
    name_runs: a copied string whose edge word is a name takes the whole run of capitalized words it
        stands in ("Leonardo" -> "Leonardo DiCaprio", "Green" -> "Sea Green"; name_run). Were every
        copy exact, it would widen 9 of Seal-Tools' 1,194 capitalized values, none of glaive's 106
        and 948 of SGD's 25,854 (mostly "New York" for "New York City";
        scripts/measure_name_runs.py). On dev no answer changed right or wrong (three wrong values
        changed; docs/dev-s18).
    numbers_owed: where the another-call head says "end" after a first request's call and the
        request writes a number no call of the turn holds, one more call is made, kept only where it
        holds one of those numbers (runtime/owed.py; runtime/pipeline.py). Of the training split's
        2,180 first requests answered with one call, 8 write a number the call does not hold
        (scripts/measure_owed.py). On dev it changed no answer (docs/dev-s18).
    whole_quotes: a copied string that starts a quotation ends where the quotation does ("Roe" of
        "the case 'Roe v. Wade'" -> "Roe v. Wade"; quote_run). Of the 650 training-split string
        values that start a quotation, 2 end before it does ("Local" of "'Local charity event raises
        ...'"; scripts/measure_quotes.py).
    name_echoes: a copied string drops the property's own lower-case name word at its edges
        ("Chinese cuisine" for `cuisine` -> "Chinese"; drop_name_words), unless it is quoted.
    disjoint_numbers: two number properties of a call copy two different numbers of the
        conversation ("the LCM of 18 and 12": 18 and 12, not 12 twice; _part_numbers). None of the
        109 training-split calls with two or more number values has two hold the same number
        (scripts/measure_disjoint_numbers.py).
    canonical_case: a string value that the conversation's tool results write in another case only
        takes their spelling ("pacific central station" -> "Pacific Central Station"; enum members
        stay as chosen; runtime/canonical.py, runtime/pipeline.py). Of the training split's 2,277
        values the user writes in another case only, it respells 679 right and none wrong, and 5
        of the values the user writes right (scripts/measure_canonical_case.py).
    own_headers: no value is copied from the turn's call headers and function names
        ("hotel_name": "ReserveHotel" from the call's own header; _walled). None of the training
        split's 91,020 string values is its function's name. On dev it moved two wrong values
        to other wrong ones (docs/dev-s19).
        On dev, calls exact / values exact / values precise (docs/dev-s19): whole_quotes and
        name_echoes (with keyed_numbers reading a long name word by its first five letters, "weighs
        80 kg") took the default set from 35.3 / 63.7 / 63.6% to 35.3 / 63.9 / 65.7% and the splits
        from 63.2 / 67.7 / 69.7% to 63.2 / 69.1 / 71.2%; with disjoint_numbers, the abbreviation's
        period (trim_edges), lists past the item places and canonical_case, the default set is at
        36.8 / 64.3 / 66.0% (two SGD calls gained by canonical_case) and the splits the same. The
        listed requests kept every answer.
    named_choices: a string-enum value a call holds takes the one member the request names in so
        many words ("compounded monthly" -> "monthly" where the head chose "quarterly"; runtime/
        rewrite.py with_named_members; not where the request names two or more members, nor flags
        such as "True" or "dontcare", nor members under three letters). Of the training split's
        2,523 enum values whose request names one member so, 2,513 are that member (SGD's misses are
        "not too expensive" for "moderate" and "amusement park" for "Theme Park"; scripts/
        measure_named_choices.py).
    function_echoes: name_echoes for the called function's lower-case name words too ("news on
        Bitcoin" for get_news's `topic` -> "Bitcoin", "green bird" for identify_bird's `color` ->
        "green"; function_words). Where the request writes a training-split string value next to
        one of those words, the value leaves it out 2,331 times (SGD 2,201, Seal-Tools 125, glaive
        5), and 5 Seal-Tools values hold it at an edge ("makeup artist" for getMakeupandHairArtist;
        scripts/measure_name_echoes.py).
    keyed_order: where the conversation writes several numbers under a property's name, the turn's
        first call of the function takes the earliest and each further call the earliest no earlier
        call copied ("weighs 80 kg, also ... weighs 60 kg": 80, then 60; first_untaken), where the
        head chose among them before; those of the latest user message first, where it writes one
        ("What if I weigh 80 kilograms instead?" after "I weigh 70"). The request's order is the
        calls' order: of the training split's 229 number values keyed so, 228 are the first keyed
        number (scripts/measure_keyed.py); only 3 calls there have two keyed numbers to choose
        from, so the dev split's merged repeats decide.
    iso_dates: a string value of a property named a date ("date", "start_date") that is one full
        date written out ("20th May 2021", "March 11, 2022") is written YYYY-MM-DD, and one that is an
        ISO date with words after it loses the words ("2022-01-01 in the morning"; runtime/stated.py
        iso_dates; not for an enum, nor where the description asks for "MM/DD/YYYY" or the like).
        Of the training split's 18,309 such values 18,295 are YYYY-MM-DD, 133 of them dates the
        request writes in words, and 3 are a full date in words ("15th June 2023";
        scripts/measure_iso_dates.py). The eval's AR baselines run with it off.
    generated_names: name_runs for a string value the head generated: where the request writes it
        once as whole words, it takes the run of capitalized words it stands in ("San" of "in San
        Diego next month" -> "San Diego"; widen_generated). name_runs' measure holds for it.
        On dev, calls exact / values exact / values precise (docs/dev-s20): named_choices took the
        default set from 36.8 / 64.3 / 66.0% to 37.5 / 64.6 / 66.4% (an SGD CheckBalance call
        exact); with function_echoes, keyed_order (a merged BMI repeat exact), the stated years and
        the lone quote, 38.2 / 65.5 / 67.2%; with iso_dates (one value) and generated_names (no
        change), 38.2 / 65.7 / 67.4%. No answer lost; the splits and the listed requests kept
        theirs.
    trailing_keys: keyed_numbers for a number written right before the last word of the property's
        name ("a 7 days trip" for `days`, "book 2 rooms" for `number_of_rooms`), where none is
        written after the name; the latest user message writing one decides, and a number word
        there ("I just want one room") is count_words' case (runtime/keyed.py trailing_numbers).
        Of the training split's values so written, 1,377 are the number the rule picks and 19
        another (scripts/measure_trailing_keys.py).
    count_words: where that latest message's number is a word ("I just want one room", "with four
        chords"), the call's number value is that number, whatever wrote it (runtime/keyed.py
        count_words; the pipeline applies it to the finished call; the eval's AR baselines run with
        it off). Of the training split's values so written, 1,377 are that number and 21 another.
    owed_repeats: where the call numbers_owed asked for repeats the function of the turn's latest
        call, holds none of the owed numbers, and the request writes as many of them as that call
        holds numbers, a number value that repeats that call's takes the owed number written in its
        place ("filed in 2019, also ... in the year 2018": the first call took 2018 and the second
        2018 again, so it takes 2019; runtime/owed.py pay_owed), instead of the call being dropped.
        numbers_owed's measure is its ground: a number the user writes is nearly always some call's
        value.
    echo_repeats: a further call of a function the turn already called, one of whose values is
        copied from words an earlier call of the turn copied for a property of another name, ends
        the turn instead of being made ("between New York City and Washington D.C." answered twice,
        the second call's origin "Washington D" inside the first's destination; runtime/pipeline.py).
        Of the training split's 1,545 values of later calls in a turn that the request writes once,
        2 overlap an earlier value of a property of another name, and 10 one of the same name in
        another function (patient_id), which the rule leaves alone (scripts/measure_cross_calls.py).
        Scoring such words down instead (a value moved elsewhere) lost 8 values and gained 2 on the
        default dev set (docs/dev-s21): the head's next choice is as often wrong.
    route_legs: a copied string that is two capitalized names joined by "to" ("San Francisco to
        Tokyo") is one of them: the second for a property whose name says where to (destination,
        to_city, end), else the first (one_leg). None of the training split's 80,991 string values
        is so written; where the request writes "X to Y", 322 of 338 values of where-to properties
        are Y and 223 of 299 values of other properties X (scripts/measure_route_legs.py).
    caseless_lists: the list rules (list_goes_on, list_items) find a call's string value in the
        request in another case too, where it is not written as the call holds it ("Music" of "an
        international music and Sports event", read after canonical_case or an enum member): the
        element after it is then the next call's. Of the training split's listed requests' later
        calls, next_in_list reads 1,406 values right, 110 wrong and 173 not at all as it was; with
        this, 1,547 / 114 / 28 (scripts/measure_list_next.py; the original requests never call one
        function twice in their first turn).
    word_prior: added, times the span prior's log-probability of the word a context token is in, to a
        copied top-level string's start scores (runtime/span_prior.py, runtime/pipeline.py _prior;
        trained on the training split's words, ``edgeagent train --stage span-prior``; not dates and
        times, which stated_values, iso_dates and clock_24h write). On dev (docs/dev-s23), calls exact
        / values exact at 0 and 1: the default set 39.0 / 65.9% -> 39.0 / 68.8%, the splits 63.2 /
        69.1% -> 68.4 / 73.5%, the listed requests the same answers (33.3 / 44.9%); with dates and
        times too, the listed requests lost three calls ("2nd" copied for GetWeather's date).
    news_refill: a further call of a function the turn called already, that copies the words an
        earlier call copied and otherwise chooses as it did (no news: the turn would end there), is
        filled again with one copied top-level value kept off those words (and off the turn's
        written calls, which are context too): the value whose other words cost the head least
        first (FillInfo.news, the start score given up, without the keyed-number bonus), up to three,
        taking the first fill that brings news and holds a number the request writes and no call
        holds; only where there is such a number (runtime/owed.py: a number the user writes is nearly
        always some call's value) ("... change in time of 4 seconds, then repeat with a change in time
        of 10 seconds": the second call was the first again; runtime/further.py refill_for_news). Found on
        BFCL's parallel items; on dev (docs/dev-s24), without the owed-number condition, it changed no
        exact call of the three sets (two negatives that made a wrong call made one more).
    named_flags: an optional flag the call leaves out (a boolean, or a string enum with "True") is
        set true where the request names the property (runtime/select.py named_properties: "with
        details", "no entry fee" for free_entry; runtime/rewrite.py named_flags). Of the training
        split's optional flags of called functions that the request so names, 158 are true, 34
        absent and 1 false (SGD 154 / 15 / 1, glaive 4 / 0 / 0, Seal-Tools 0 / 19 / 0). On dev
        (docs/dev-s24): the listed requests gain one exact call (is_unisex) and three values, the
        default set one value, the splits nothing.
    partial_keys: where neither the property's whole name nor trailing_keys keys a number, one
        written right after a word of the name that is its own (four letters or more, in no other
        property name of the function) gets the keyed_numbers bonus ("an initial investment of $2000
        with a gain of $500": gain_loss 500, where the head took 5000; runtime/keyed.py
        partial_pattern). Of the training split's 275 number values their whole name keys none of,
        36 are written so, and 33 are the first number so written (scripts/measure_partial_keys.py).
    keyed_quotes: added to a copied string's start score where a quoted text written right after the
        property's name starts ("the relationship type 'DJZaRcI60Ps'"; runtime/keyed.py
        quoted_pattern), and such a property, optional or not, is copied, never left out or
        generated; whole_quotes then ends it at the closing quote. Top-level properties only, as
        measured (an array's items keyed too took "Hearts" from the call's own suit). Of the
        training split's top-level string properties of called functions so written, 216 of 230
        required values are the first quoted text (3 a later one) and 22 of 25 optional ones (3 left
        out; scripts/measure_keyed_quotes.py).
        On dev (docs/dev-s24), at 100: the default set gains an exact call (getKinshipData's
        relationship_type, which the head left out) and two values; the splits and listed requests
        keep their answers.
    cross_echoes: a copied top-level value may not start inside words an earlier call of the turn
        copied for a property of another name (the values of later calls nearly never do:
        scripts/measure_cross_calls.py, 2 of 1,545). Off: on the default dev set it changed 30
        items and lost an exact call and three values (docs/dev-s24/echoes-default): the head's
        next choice is as often wrong, as scoring such words down was in the twenty-first session.
    alike_lists: the list rules (list_goes_on, list_items) read no element that opens in lower case
        after a value the request writes capitalized: "Manhattan, offering Thai food and a vegan
        menu" lists no place, "Manchester United and who are they playing against" no team. Of the
        training split's 2,180 first requests answered by one call, list_goes_on read an element
        after the call's own values (a call the turn does not have) in 19, with this in 8; the
        listed requests' later calls are read as before, 1,547 right, 114 wrong, 28 not at all
        (scripts/measure_list_next.py).
    owed_template: a further call of the turn's latest function, in a first request, that would end
        the turn (it repeats an earlier call, brings no news, or echoes another property's words)
        while the request owes numbers (numbers_owed), is made as that latest call with each of its
        written numbers replaced by the owed number of the same rank, where the request writes as
        many owed numbers as the call holds written ones (pay_owed on the call itself: "an object
        accelerated at 5 m/s^2 over 100 meters. The second object is accelerated at 10 m/s^2 over 200
        meters"; runtime/further.py owed_template). numbers_owed's measure is its ground, as for
        owed_repeats: a number the user writes is nearly always some call's value. Found by
        reading BFCL parallel items, whose repeated calls the echo and news rules ended.
    range_order: a call's range pair (start/end, from/to, min/max, origin/destination of one name:
        runtime/ranges.py range_pairs) takes the order in which the latest user message writes its
        range ("between 2012 and 2015": from_year 2012, to_year 2015), where the call holds the
        two values the other way round, or, for numbers, one of them twice (in_range_order). Of
        the training split's 70 pairs written as a range, 68 are in its order; the 2 others are
        SGD trips asked for the other way (scripts/measure_ranges.py). Found by reading BFCL
        simple items ("from 1871 to 1945": start_year 1945).
    named_items: an array whose items are a string enum takes every member the request names in so
        many words, in the order named ("What's the elevation and area of Yellowstone National Park?":
        information ["Elevation", "Area"], where the head left it empty), where the call leaves it
        out, holds it empty or holds only named members (runtime/rewrite.py named_items). No call
        in ../shared/data has such an array, so its ground is named_choices' measure: of the
        training split's 2,523 enum values whose request names one member, 2,513 are that member.
        Found by reading BFCL simple items, where such arrays came out empty.
    past_articles: a copied string whose span is a lowercase article alone ("Who discovered the
        neutron?": discovery "the") starts at the word after it, its end decoded again from the end
        scores (runtime/fill.py past_article). Of the training split's 91,020 string values none is a
        lowercase article alone (one is "A"). Found by reading BFCL simple items.
    bare_echoes: a copied string whose span is nothing but the property's or the function's
        lower-case name words ("the Empire State building" for `building_name`: "building"; "virus"
        for detectVirus's `test_type`), unquoted, is decoded again with the starts inside it barred
        (twice at most; runtime/fill.py only_name_words, _Fill.past_echoes), so that name_echoes can
        drop the word from a longer span. The head's next best start decides: "a human cell" gives
        "human", but "Can you give me the height and width of Empire State building" gives the
        sentence from "Can" (docs/dev-s28). Of the training split's 91,018 string values one is
        nothing but such words ("survival_time", written so; scripts/measure_name_echoes.py). On dev
        one value gained (detectVirus "PCR"), no call changed (docs/dev-s28). Found by reading BFCL
        simple items.
    and_clauses: a string value the slot filler wrote, of a property that holds one value
        (runtime/lists.py holds_one_value), that joins a first element of at most four words to a
        clause with "and" ("AUD and USD to CAD", "2022 and another flight from Tokyo to Sydney",
        "Louvre museum, and 'Age of Reptiles'": words after the "and" that hold a preposition or a
        quote, or open a clause) keeps the first element (before_clause); a list is list_split's. Where the call
        goes on, list_goes_on may find the next element. None of the training split's 91,018 string
        values, of any property, would be cut (60 hold " and ": names such as "Josie and the
        Pussycats", lists, sentences; scripts/measure_and_clauses.py). No dev value holds " and ",
        so dev does not move (docs/dev-s28). Found by reading BFCL parallel items.
    disjoint_texts: disjoint_spans for the same text copied from other words: a copied string whose
        text (as its span reads, case aside) is an outranking string's of another property
        ("Seattle" for `from_location`, written twice, where `to_location` has it) is decoded again
        with its own words ruled out as well (runtime/fill.py _part_spans). Of the training split's
        23,702 calls with two or more string values, 4 hold one text for two free strings
        (sender_address and receiver_address "789 Oak Lane"); 265 more share an enum member
        ("checking", "True"), which is chosen, not copied (scripts/measure_disjoint_texts.py). On
        dev three calls changed, wrong before and after (docs/dev-s28).
    currency_codes: a currency property's string value (a name with the word "currency", no enum)
        is written as the ISO code of the currency the request names by it ("Canadian dollars" ->
        "CAD", "Euros" -> "EUR"), and one that names none of the latest user message's currencies (a
        generated "EUR" for "British Pounds", a cut "E") takes the currencies that message names and
        no other currency value of the call holds, in the message's order and the schema's
        (runtime/currency.py; not on a call the trunk wrote). Of the training split's 29 currency
        values, 27 are codes of a currency the request names, 14 of them by name ("US dollars",
        "Japanese Yen"); the rule changes none of the 17 reference calls, and with every currency
        value cut it gives back all 15 whose currencies the request names
        (scripts/measure_currency_codes.py). Found by reading BFCL simple items.
    whole_dates: a string value of a property named a date (no enum) that is a piece of a date the
        latest user message writes out whole ("2022" of "May 12, 2022", "October,2023" of "15th
        October,2023") or a date in digits cut short (a generated "2010-0") is written as that date,
        in the format the property's description asks for ("MM-DD-YYYY"; ISO where it names none):
        a piece the first whole date that holds it, a cut date the first whole date; a date another
        value holds or an earlier one took is not taken again (runtime/stated.py whole_dates; not on
        a call the trunk wrote). On the training split it changes none of the 77 reference calls with
        a date value whose request writes a whole date, and with each value that is such a date cut
        to "20-" or to its year, it gives back 68 of the 71 calls that hold one; the 3 others keep
        the date as written ("15th June 2023"), which the rule writes in ISO form
        (scripts/measure_whole_dates.py). Found by reading BFCL simple items.
    of_names: name_runs and generated_names join two runs of capitalized words that "of" or "of
        the" stands between ("Art" of "the Metropolitan Museum of Art" -> "Metropolitan Museum of
        Art"; runtime/fill.py name_run, joined). Were every copy exact, it would widen 5 of the
        training split's 27,154 capitalized values (SGD's "Baseball" of "Games of Baseball",
        "Cupertino" of "City of Cupertino"), and 74 of those values are names joined by "of"
        ("Bank of America"), which a copy of one side leaves short (scripts/measure_name_runs.py).
        Found by reading BFCL simple items.
    modifier_echoes: where bare_echoes decodes a span again, it first takes the words the
        conversation writes right before the name word, where they read as a name or a modifier
        (runtime/fill.py words_before: up to four capitalized words that do not open a sentence, or
        one lower-case word that is no function word, or a whole number): "Empire State" of "the
        Empire State building" for `building_name`, not the head's next best start ("Can you give
        me the height and width of Empire State", BFCL simple_python_270); the head's next best
        start where they do not. Of the training split's string values written right before their
        property's lower-case name word, 3,217 of 3,350 are those words, and 36 read as other words
        (the rest read as none); for the function's name words 1,870 of 2,027, and 44 other
        (scripts/measure_name_echoes.py).
    clauses_owed: numbers_owed for a clause that a lead word opens ("Also, ...", "Finally, ...", ",
        and then ..."; runtime/owed.py lead_clauses): where the another-call head says "end" after a
        first request's calls, the turn has fewer calls than the request has lead clauses plus one,
        and a lead clause holds no value of any call of the turn (holds_clause: a string it writes,
        any case, or a number), one more call is made, kept only where it holds a value of such a
        clause. Of the training split's 431 first requests with lead clauses (Seal-Tools' and one
        of SGD's), 427 are answered with at least one call more than their lead clauses; played on
        every first request with its reference calls, 3 would still owe a clause
        (scripts/measure_clauses_owed.py). Found by reading BFCL parallel items ("Also, calculate
        waste production for a bachelor in New York").
    city_states: a string value that is the state of a "City, State" pair the latest user message
        writes ("Washington" of "Seattle, Washington", "CA" of "San Francisco, CA") takes the pair's
        city, except under a property named a state, region, province or country, or where the
        message pairs that state with two cities (runtime/places.py; not on a call the trunk wrote).
        Of the training split's 2,510 string values that are the city, the state or the whole of
        such a pair, 2,495 are the city, 9 the whole pair and 6 the state; the rule would change 5
        of those ("New York" of "Big Apple, New York"; scripts/measure_city_states.py). Found by
        reading BFCL simple items.
    ordinal_parts: a first request that numbers its parts ("The first triangle has a base of 12 m ...
        The second triangle has ...", "In the first setup ...", "First, ... Second, ...") asks for a
        call per part: while the turn's calls are all of one function (that takes no two parts' values
        in one call, "charge1" / "charge2"), call k copies nothing from the other parts' stretches nor
        from the turn's calls, and where the another-call head says "end" with a part left, one more
        call of the function is made, kept only where it holds a value that part writes
        (runtime/parts.py; runtime/pipeline.py). The training split has 2 such requests, both answered
        with calls of several functions, which the rule leaves alone (scripts/measure_ordinal_parts.py);
        on dev it changed no answer (docs/dev-s30). Found by reading BFCL parallel items.
    keyed_frames: after a first request's call, where one of its values' key words (the words right
        before the value, up to a content word: "case number", "the county of") come again later
        with a value no call holds ("case number XY1234 in Los Angeles County Court, and case number
        GH5678 in Orange County Court"), the turn gets one more call of the function where the
        another-call head says "end", kept only where it holds a new value; that call, and a call
        of the same function the head asks for, copies nothing from the old frame (from its first
        such key to the new one) where the new frame writes as many values, else from the old
        values' places ("sample size of 50 ... the same for a sample size of 150"), nor from the
        turn's calls (runtime/frames.py; runtime/pipeline.py). Played after each of the training
        split's 3,605 first-request calls with all of them made, a frame is found after 8 (a call
        the data lacks; scripts/measure_keyed_frames.py). Found by reading BFCL parallel items.
        Also: a list call whose element fits no schema (the call again) no longer ends the turn. On
        dev neither changed an answer (docs/dev-s30).
    described_members: a string property without an enum whose description lists its options
        ("Allowed values: 'copper', 'aluminum'", "('Celsius' or 'Fahrenheit')", "(Watercolor, Oil,
        Acrylic)"; not examples after "e.g." / "such as", nor a format) takes them as its members
        for named_members and named_choices (runtime/options.py). The training split has 2 such
        properties, both holding an option (scripts/measure_described.py); on dev it changed no
        answer (docs/dev-s30). Found by reading BFCL parallel items.
    """

    length_penalty: float = 0.25
    sentence_stop: bool = True
    empty_strings: bool = False
    absent_bias: float = 2.0
    free_calls: bool = True
    whole_numbers: bool = True
    list_items: bool = True
    whole_chunks: bool = True
    conversation_only: bool = False
    list_goes_on: bool = True
    lists_first: bool = True
    copy_numbers: bool = True
    clock_24h: bool = True
    fresh_repeats: float = 4.0
    optional_echoes: str = "turn"
    drop_articles: bool = True
    stated_values: bool = True
    disjoint_spans: bool = True
    fresh_calls: bool = True
    list_split: bool = True
    bare_words: bool = True
    named_members: bool = True
    other_clauses: float = 0.0
    percent_fractions: bool = True
    keyed_numbers: float = 100.0
    name_runs: bool = True
    numbers_owed: bool = True
    whole_quotes: bool = True
    name_echoes: bool = True
    disjoint_numbers: bool = True
    canonical_case: bool = True
    own_headers: bool = True
    named_choices: bool = True
    function_echoes: bool = True
    keyed_order: bool = True
    iso_dates: bool = True
    generated_names: bool = True
    trailing_keys: bool = True
    count_words: bool = True
    owed_repeats: bool = True
    echo_repeats: bool = True
    route_legs: bool = True
    caseless_lists: bool = True
    word_prior: float = 1.0
    news_refill: bool = True
    named_flags: bool = True
    partial_keys: bool = True
    keyed_quotes: float = 100.0
    cross_echoes: bool = False
    alike_lists: bool = True
    owed_template: bool = True
    range_order: bool = True
    past_articles: bool = True
    named_items: bool = True
    bare_echoes: bool = True
    and_clauses: bool = True
    disjoint_texts: bool = True
    currency_codes: bool = True
    whole_dates: bool = True
    of_names: bool = True
    modifier_echoes: bool = True
    clauses_owed: bool = True
    city_states: bool = True
    ordinal_parts: bool = True
    keyed_frames: bool = True
    described_members: bool = True

    def __post_init__(self):
        if self.optional_echoes not in ("keep", "call", "turn"):
            raise ValueError(f"SpanRules.optional_echoes: expected 'keep', 'call' or 'turn', "
                             f"got {self.optional_echoes!r}")

    @classmethod
    def off(cls) -> SpanRules:
        """Every rule off, the ablation: each weight 0, each switch False, except empty_strings (True:
        an empty string may fill a required slot) and optional_echoes ("keep")."""
        off = {"empty_strings": True, "optional_echoes": "keep"}
        return cls(**{f.name: off.get(f.name, 0.0 if isinstance(f.default, float) else False) for f in fields(cls)})
