"""Lists the request writes (runtime/lists.py): the next element of a list, a closed list in one value."""


def test_list_elements():
    from edgeagent.runtime.lists import list_elements

    assert list_elements(", 10, 15 and 20.", "number", 9) == ["10", "15", "20"]
    assert list_elements(", 10, 15 and 20.", "integer", 2) == ["10", "15"]
    assert list_elements(", cough, sore throat and headache.", "string", 5) == ["cough", "sore throat", "headache"]
    assert list_elements(", 'banana', 'cherry']", "string", 5) == ["banana", "cherry"]
    assert list_elements(" to London", "string", 3) == []
    # a word element ends before a preposition and drops one it starts with
    assert list_elements(", Rome and Oslo for 2 days.", "string", 5) == ["Rome", "Oslo"]
    assert list_elements(" and in Rome in celsius?", "string", 5) == ["Rome"]
    assert list_elements(", Toronto and Boston", "string", 5) == ["Toronto", "Boston"]
    # "and" that opens a clause ends the list there: no element
    assert list_elements(" and should be analyzed using mass spectrometry.", "string", 5) == []
    assert list_elements(", Rome and I want it in celsius", "string", 5) == ["Rome"]
    assert list_elements(", including medical history, medications, and allergies.", "string", 5) == []
    assert list_elements(" and in which year?", "string", 5) == []            # a question, not a value
    assert list_elements(" and Whistler", "string", 5) == ["Whistler"]         # not "which"
    assert list_elements(" and Will Smith", "string", 5) == ["Will Smith"]       # a name, not "will"
    # a lowercase article opens no element, as no copied value opens with one; a capital one stays
    assert list_elements(", the Louvre and an Orangerie.", "string", 5) == ["Louvre", "Orangerie"]
    assert list_elements(" and The Office", "string", 5) == ["The Office"]


def test_next_in_list_moves_a_repeated_value_to_the_next_listed_one():
    from edgeagent.runtime.lists import next_in_list

    request = "Play Taylor Swift and Maroon 5, for 20 minutes and 15 minutes respectively, on Spotify."
    assert next_in_list(request, "Taylor Swift", ["Taylor Swift"]) == "Maroon 5"
    assert next_in_list(request, "Taylor Swift", ["Taylor Swift", "Maroon 5"]) is None
    assert next_in_list(request, 20, [20]) == 15                    # a number with its unit
    assert next_in_list(request, "Spotify", ["Spotify"]) is None    # not in a list: stays
    assert next_in_list(request, "Paris", ["Paris"]) is None        # not in the request
    assert next_in_list(request, True, [True]) is None
    # the list is where the value stands whole: "10" is not the one inside "$1000"
    request = "An investment paying $1000 per year at 5%, for 10, 20 and 30 years."
    assert next_in_list(request, 10, [10]) == 20
    assert next_in_list(request, 1000, [1000]) is None
    assert next_in_list("Parisian cafes first, then Paris and Rome.", "Paris", ["Paris"]) == "Rome"


def test_a_quoted_or_possessive_element_reads_on():
    from edgeagent.runtime.lists import next_in_list

    news = 'The latest news on the topic of "Climate Change" and "Artificial Intelligence", each with 5 articles'
    assert next_in_list(news, "Climate Change", ["Climate Change"]) == "Artificial Intelligence"
    assert next_in_list("Pianos in Berlin and Madrid's music stores.", "Berlin", ["Berlin"]) == "Madrid"
    assert next_in_list("Pianos in Berlin and Madrid's music stores.", "Madrid", ["Madrid"]) == "Berlin"
    assert next_in_list("Pianos in Berlin's music stores.", "Berlin", ["Berlin"]) is None    # no list


def test_caseless_lists_find_a_value_the_request_writes_in_another_case():
    """SpanRules.caseless_lists: "Music" (an enum member, or the tool results' spelling) where the
    request says "music and Sports"; the element keeps the value's capitals."""
    from edgeagent.runtime.rules import SpanRules
    from edgeagent.runtime.lists import next_in_list
    from edgeagent.runtime.further import list_next

    request = "Can you find an international music and Sports event around Berkeley?"
    assert next_in_list(request, "Music", ["Music"], closed=True) is None             # as it was
    assert next_in_list(request, "Music", ["Music"], closed=True, caseless=True) == "Sports"
    assert next_in_list("Find museums in paris and Rome", "Paris", ["Paris"], caseless=True) == "Rome"
    # written as the call holds it: the place where it is so written ("Rock" is the band, not "rock")
    assert next_in_list("Rock bands; rock, jazz and blues", "rock", ["rock"], caseless=True) == "jazz"
    assert next_in_list(request, "music", ["music"], closed=True, caseless=True) == "Sports event around Berkeley"
    assert next_in_list(request, "Musical", ["Musical"], caseless=True) is None        # a whole word only
    assert list_next({"category": "Music"}, [], request, caseless=True) == {"category": "Sports"}
    assert list_next({"category": "Music"}, [], request) == {}
    assert SpanRules().caseless_lists and not SpanRules.off().caseless_lists


def test_alike_lists_take_no_lower_case_element_after_a_name():
    """SpanRules.alike_lists: "Manhattan, offering Thai food and a vegan menu" is no list of places;
    a name's list goes on with names (or numbers), a lower-case value's with anything."""
    from edgeagent.runtime.rules import SpanRules
    from edgeagent.runtime.lists import next_in_list
    from edgeagent.runtime.further import list_next

    request = "I want to find 5 restaurants near my location, Manhattan, offering Thai food and a vegan menu."
    assert list_next({"location": "Manhattan"}, [], request, caseless=True) == {"location": "offering Thai food"}
    assert list_next({"location": "Manhattan"}, [], request, caseless=True, alike=True) == {}
    assert next_in_list("Weather in Paris, Rome and Oslo", "Paris", [], closed=True, alike=True) == "Rome"
    # a lower-case value: its list may go on with a name
    assert next_in_list("Play some rock and Smooth Jazz", "rock", [], closed=True, alike=True) == "Smooth Jazz"
    # the case the request writes the value in decides, not the call's ("music" written, "Music" called)
    music = "Can you find an international music and Sports event around Berkeley?"
    assert next_in_list(music, "Music", [], closed=True, caseless=True, alike=True) == "Sports"
    assert SpanRules().alike_lists and not SpanRules.off().alike_lists


def test_split_list_reads_a_closed_list_and_nothing_else():
    from edgeagent.runtime.lists import split_list

    assert split_list("Sonoma and Marshall") == ["Sonoma", "Marshall"]
    assert split_list("Phoenix, Sonoma or Nairobi") == ["Phoenix", "Sonoma", "Nairobi"]
    assert split_list("Museum and Place of Worship") == ["Museum", "Place of Worship"]
    assert split_list("What's the weather in Napa and Vancouver") == ["Napa", "Vancouver"]
    for one in ("Paris", "Tokyo, Japan", "The text needs to be proofread and edited.",
                "Discuss the new project proposal and its budget",
                "Tell me all you know about the weather and the sea"):
        assert split_list(one) is None, one


def test_only_a_property_of_one_value_gives_up_its_list():
    from edgeagent.runtime.lists import first_of_lists, holds_one_value

    assert holds_one_value("city", {"type": "string"}) and holds_one_value("address", {"type": "string"})
    for name, prop in (("skeletal_elements", {"type": "string"}), ("personalityTraits", {"type": "string"}),
                       ("city", {"type": "string", "description": "Comma-separated cities"}),
                       ("city", {"type": "string", "enum": ["Sonoma and Marshall", "Oslo"]}),
                       ("city", {"type": "array"}), ("city", None)):
        assert not holds_one_value(name, prop), (name, prop)
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "ingredients": {"type": "string"},
                                               "n": {"type": "integer"}}}
    args = {"city": "Sonoma and Marshall", "ingredients": "eggs and milk", "n": 2, "other": "a and b"}
    assert first_of_lists(args, schema) == {**args, "city": "Sonoma"}


def test_a_first_element_joined_to_a_clause_is_cut_before_the_and():
    from edgeagent.runtime.lists import before_clause, before_clauses

    assert before_clause("AUD and USD to CAD") == "AUD"
    assert before_clause("2022 and another flight from Tokyo to Sydney") == "2022"
    assert before_clause("Louvre museum, and 'Age of Reptiles'") == "Louvre museum"
    assert before_clause("Paris and then Rome") == "Paris"
    # names, lists and sentences stay whole: nothing after the "and" opens a clause, the apostrophe is
    # no quote, the first part is too long, or the value is a sentence
    for whole in ("Josie and the Pussycats", "Cozy Inn Bed and Breakfast", "Brandon Lee and Bruce Lee's Grave Site",
                  "Buy milk, eggs, and bread", "Join our team and work on new technologies.", "Paris",
                  "The project is on track and due by the end of May", "and then to Rome"):
        assert before_clause(whole) is None, whole
    schema = {"type": "object", "properties": {"currency": {"type": "string"}, "pairs": {"type": "string"},
                                               "code": {"type": "string", "enum": ["AUD and USD to CAD"]}}}
    args = {"currency": "AUD and USD to CAD", "pairs": "AUD and USD to CAD", "code": "AUD and USD to CAD"}
    assert before_clauses(args, schema) == {**args, "currency": "AUD"}    # a plural and an enum keep it


def test_a_closed_list_is_read_back_from_its_last_or_middle_element():
    from edgeagent.runtime.lists import next_in_list

    request = "What is the weather like in Phoenix, Sonoma and Nairobi?"
    assert next_in_list(request, "Nairobi", ["Nairobi"], closed=True) == "Phoenix"
    assert next_in_list(request, "Sonoma", ["Sonoma", "Nairobi"], closed=True) == "Phoenix"
    assert next_in_list(request, "Sonoma", ["Sonoma", "Nairobi", "Phoenix"], closed=True) is None
    album = "Can you find a song on the V, Built On Glass and My Everything album?"
    assert next_in_list(album, "My Everything", ["My Everything", "V"], closed=True) == "Built On Glass"
    assert next_in_list("Can you check my savings and checking account?", "checking", [], closed=True) == "savings"
    assert next_in_list("Circles of radius 5, 10 and 15", 15, [15, 5]) == 10
    # a list with no "and" / "or" element is no list to go back in, however asked
    assert next_in_list("Restaurants in Paris, France", "France", []) is None


def test_a_list_of_names_ends_each_element_where_its_capitalized_words_do():
    from edgeagent.runtime.lists import next_in_list

    assert next_in_list("Check the Phoenix and Vancouver weather.", "Phoenix", ["Phoenix"], closed=True) == "Vancouver"
    assert next_in_list("I hear Hozier and Angels Vs White Sox is good.", "Hozier", [], closed=True) \
        == "Angels Vs White Sox"
    assert next_in_list("Any Museum and Place of Worship?", "Museum", [], closed=True) == "Place of Worship"
    # lower-case lists keep their words: nothing says where a name would end
    assert next_in_list("Play some rock and smooth jazz tonight", "rock", [], closed=True) == "smooth jazz tonight"


def test_an_element_read_back_is_never_part_of_a_used_value():
    from edgeagent.runtime.lists import next_in_list

    request = "The substance is a white powder and should be analyzed using mass spectrometry."
    assert next_in_list(request, "should be analyzed", ["white powder", "should be analyzed"], closed=True) is None
    assert next_in_list("Check my savings and checking account", "checking", ["my savings"], closed=True) is None
