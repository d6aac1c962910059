//! The embedded vocabulary of the sample: names, IELTS prompts, sentence templates and
//! examiner phrases. Data only; `prose.rs` assembles it.
//!
//! Editing any list changes the benchmark's content: append, never reorder, and expect the
//! byte size to move.

/// First names with the language code their owners tend to have. Real bots see every script.
pub(crate) const FIRST_NAMES: &[(&str, &str)] = &[
    ("Anna", "en"),
    ("James", "en"),
    ("Olivia", "en"),
    ("Daniel", "en"),
    ("Sophie", "en"),
    ("Michael", "en"),
    ("Emily", "en"),
    ("Priya", "en"),
    ("Rahul", "en"),
    ("Aisha", "en"),
    ("Дмитрий", "ru"),
    ("Анастасия", "ru"),
    ("Екатерина", "ru"),
    ("Иван", "ru"),
    ("Ольга", "ru"),
    ("Сергей", "ru"),
    ("Мария", "ru"),
    ("Алексей", "ru"),
    ("Юлия", "ru"),
    ("Артём", "ru"),
    ("Nguyễn", "vi"),
    ("Trần Minh", "vi"),
    ("Lê Thị Hương", "vi"),
    ("Phạm", "vi"),
    ("Hoàng Anh", "vi"),
    ("Đức", "vi"),
    ("Thảo", "vi"),
    ("محمد", "ar"),
    ("أحمد", "ar"),
    ("فاطمة", "ar"),
    ("علي", "ar"),
    ("Sardor", "uz"),
    ("Dilnoza", "uz"),
    ("Jasur", "uz"),
    ("Malika", "uz"),
    ("Aziz 🇺🇿", "uz"),
    ("Bekzod", "uz"),
    ("Nilufar", "uz"),
    ("Shahzod", "uz"),
    ("Zarina ✨", "uz"),
    ("Mehmet", "tr"),
    ("Zeynep", "tr"),
    ("Elif", "tr"),
    ("Reza", "fa"),
    ("زهرا", "fa"),
    ("Wei", "zh-hans"),
    ("李娜", "zh-hans"),
    ("王伟", "zh-hans"),
    ("Lucas", "pt-br"),
    ("João", "pt-br"),
    ("Sofía", "es"),
    ("Mateo", "es"),
    ("Ananya", "hi"),
    ("अर्जुन", "hi"),
    ("Kamila 🌸", "ru"),
    ("Alex 🚀", "en"),
    ("M.", "en"),
    ("Timur", "ru"),
    ("Aigerim", "kk"),
    ("Нурлан", "kk"),
    ("Yuki", "ja"),
    ("Jin-woo", "ko"),
    ("Lina 💫", "ar"),
    ("Omar", "ar"),
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Smith",
    "Brown",
    "Karimov",
    "Tashkentova",
    "Иванов",
    "Петрова",
    "Смирнов",
    "Nguyen",
    "Trần",
    "Lê",
    "Phạm",
    "Yusupov",
    "Rahimova",
    "Kim",
    "Lee",
    "Zhang",
    "Wang",
    "Yilmaz",
    "Demir",
    "Hosseini",
    "Ahmadi",
    "Patel",
    "Sharma",
    "Silva",
    "Santos",
    "García",
    "Rossi",
    "Müller",
    "Novak",
    "Ким",
    "Абдуллаев",
    "Ortiz",
    "Okafor",
    "Mensah",
    "Ali",
    "Khan",
    "🔥",
];

pub(crate) const USERNAME_STEMS: &[&str] = &[
    "anna", "james", "ielts", "band7", "sardor", "dilnoza", "nguyen", "minh", "dima", "katya",
    "ali", "mehmet", "zeynep", "priya", "rahul", "aziz", "malika", "study", "english", "writer",
    "lucas", "sofia", "wei", "linh", "reza", "omar", "timur", "kamila", "alex", "tutor",
];

/// `(task, topic, prompt)`: the prompts the bot offers, Task 1 describing a visual, Task 2 an
/// argument. The topic is the noun phrase essays talk about.
pub(crate) const TASK1_PROMPTS: &[(&str, &str)] = &[
    (
        "the use of public transport",
        "The chart below shows the percentage of commuters in four European cities who used buses, trains, bicycles and cars to travel to work in 2005 and 2020.",
    ),
    (
        "household energy use",
        "The pie charts below compare the proportion of energy used for heating, cooling, lighting, cooking and appliances in an average Australian household in 1990 and 2020.",
    ),
    (
        "international student numbers",
        "The line graph below gives information about the number of international students enrolled at universities in the UK, Canada, Australia and the USA between 2000 and 2022.",
    ),
    (
        "water consumption",
        "The table below shows water consumption per person per day in six countries, broken down into agriculture, industry and domestic use.",
    ),
    (
        "the recycling process",
        "The diagram below illustrates the process of recycling plastic bottles, from collection to the production of new goods.",
    ),
    (
        "museum visitors",
        "The bar chart below shows the number of visitors to three London museums in each month of 2019.",
    ),
    (
        "coffee production",
        "The diagram below shows how instant coffee is manufactured, from harvesting the beans to packing the finished product.",
    ),
    (
        "mobile phone ownership",
        "The line graph below shows the percentage of people in different age groups who owned a smartphone in one country between 2010 and 2023.",
    ),
    (
        "a town centre redevelopment",
        "The maps below show the centre of a small town called Islip as it is now, and plans for its development next year.",
    ),
    (
        "spending on leisure",
        "The table below gives information about the weekly spending of families in one country on food, housing, transport and leisure in 1995, 2005 and 2015.",
    ),
];

pub(crate) const TASK2_PROMPTS: &[(&str, &str)] = &[
    (
        "working from home",
        "Some people believe that working from home benefits both employees and companies, while others think it has serious disadvantages. Discuss both views and give your own opinion.",
    ),
    (
        "online education",
        "Online courses are becoming more popular than traditional classroom learning. Do the advantages of this development outweigh the disadvantages?",
    ),
    (
        "social media",
        "Many people argue that social media has a negative effect on young people's mental health. To what extent do you agree or disagree?",
    ),
    (
        "public transport",
        "Governments should invest more money in public transport than in building new roads. To what extent do you agree or disagree?",
    ),
    (
        "climate change",
        "Some say that individuals can do little to slow climate change and that only governments and large companies can make a difference. Discuss both views and give your opinion.",
    ),
    (
        "university education",
        "Some people think that university education should be free for all students, whatever their background. Others believe students should pay for it themselves. Discuss both views and give your own opinion.",
    ),
    (
        "tourism",
        "International tourism has brought enormous benefits to many places, but it has also caused problems. What are these problems, and how can they be solved?",
    ),
    (
        "city life",
        "More and more people are moving from the countryside to big cities. What problems does this cause, and what can be done to reduce them?",
    ),
    (
        "artificial intelligence",
        "Artificial intelligence will soon replace many jobs that people do today. Is this a positive or a negative development?",
    ),
    (
        "healthy eating",
        "Fast food is becoming cheaper and more widely available, and obesity rates are rising. What are the causes of this, and what measures could be taken?",
    ),
    (
        "children and technology",
        "Children today spend too much time on computers and smartphones and not enough time playing outside. To what extent do you agree or disagree?",
    ),
    (
        "learning foreign languages",
        "Some people think that learning a foreign language at primary school is better than learning it at secondary school. Do the advantages outweigh the disadvantages?",
    ),
    (
        "crime and punishment",
        "Some people believe that the best way to reduce crime is to give longer prison sentences. Others think there are better alternatives. Discuss both views and give your opinion.",
    ),
    (
        "advertising",
        "Advertising encourages people to buy things they do not really need. Do you agree or disagree?",
    ),
    (
        "the ageing population",
        "In many countries the proportion of older people is steadily increasing. Does this trend have more positive or negative effects on society?",
    ),
    (
        "space exploration",
        "Some people think that spending money on space exploration is a waste when there are so many problems on Earth. To what extent do you agree or disagree?",
    ),
];

pub(crate) const GROUPS: &[&str] = &[
    "young people",
    "governments",
    "parents",
    "employers",
    "teachers",
    "many families",
    "local authorities",
    "ordinary citizens",
    "students",
    "older people",
    "large companies",
    "people in developing countries",
    "city residents",
    "policy makers",
];

pub(crate) const BENEFITS: &[&str] = &[
    "saves a considerable amount of time and money",
    "improves the quality of life of ordinary people",
    "gives people more freedom to organise their day",
    "creates new opportunities for education and employment",
    "helps people develop practical skills",
    "reduces pressure on public services",
    "makes society fairer and more inclusive",
    "encourages people to take responsibility for their own choices",
    "allows people to stay in touch with friends and relatives",
    "brings long-term economic benefits",
    "protects the environment for future generations",
    "increases productivity in the workplace",
];

pub(crate) const PROBLEMS: &[&str] = &[
    "can lead to social isolation",
    "often widens the gap between rich and poor",
    "puts too much pressure on young people",
    "may damage people's physical and mental health",
    "is extremely expensive to maintain",
    "causes serious damage to the environment",
    "makes it harder for people to concentrate",
    "reduces the amount of face-to-face communication",
    "can be exploited by dishonest companies",
    "leaves many people without the skills they need",
    "increases traffic congestion and pollution",
    "creates unrealistic expectations",
];

pub(crate) const EXAMPLES: &[&str] = &[
    "in my country",
    "in Japan",
    "in many European cities",
    "during the pandemic",
    "in my own family",
    "in Singapore",
    "in rural areas of Vietnam",
    "in Uzbekistan",
    "at my university",
    "in the United States",
    "in Scandinavian countries",
    "in my home town",
];

pub(crate) const ADVERBS: &[&str] = &[
    "clearly",
    "undoubtedly",
    "arguably",
    "certainly",
    "in fact",
    "in many cases",
    "to some extent",
    "without doubt",
    "in general",
    "admittedly",
];

/// Task 2 templates. Slots: {t} topic, {g} group, {g2} another group, {b} benefit,
/// {p} problem, {e} example place, {a} adverb.
pub(crate) const INTRO_TEMPLATES: &[&str] = &[
    "It is often argued that {t} has changed the way people live and work.",
    "In recent years, {t} has become one of the most widely discussed issues in modern society.",
    "Nowadays, {t} affects almost every aspect of our daily lives.",
    "There is an ongoing debate about whether {t} does more good than harm.",
    "Some people believe that {t} brings enormous benefits, while others see it as a threat.",
    "The question of {t} is one that {g} and {g2} have discussed for many years.",
];

pub(crate) const THESIS_TEMPLATES: &[&str] = &[
    "In my opinion, the advantages of {t} clearly outweigh the disadvantages, and this essay will explain why.",
    "I partly agree with this view, although I believe the situation is more complicated than it first appears.",
    "This essay will discuss both sides of the argument before reaching a conclusion.",
    "I strongly believe that {g} should pay more attention to this issue.",
    "While there are some drawbacks, I would argue that the overall effect is positive.",
];

pub(crate) const BODY_TEMPLATES: &[&str] = &[
    "On the one hand, {t} {b}.",
    "On the other hand, it {p}.",
    "Firstly, {a}, {t} {b}.",
    "Secondly, many {g} argue that it {p}.",
    "For example, {e}, {g} have found that {t} {b}.",
    "For instance, a recent study {e} showed that it {p}.",
    "This means that {g} can spend more time on the things that really matter to them.",
    "As a result, {g} are more likely to benefit in the long run.",
    "However, it is important to remember that {t} {p}.",
    "Moreover, {a}, it {b}.",
    "In addition, {g} often point out that it {b}.",
    "Another important point is that {t} {p}, which is a serious concern for {g}.",
    "If {g} do not address this problem, the consequences could be serious.",
    "Therefore, {g} should work together with {g2} to find a balanced solution.",
    "This is particularly true {e}, where {g} have experienced this directly.",
    "Critics, however, claim that {t} {p}.",
    "Despite this, I believe that {t} {b}.",
    "It is also worth noting that {g} and {g2} do not always share the same priorities.",
    "A good illustration of this can be seen {e}.",
    "Consequently, {g} need clear rules and better information.",
    "Although this argument has some merit, it ignores the fact that {t} {b}.",
    "In other words, the problem is not {t} itself but the way it is used.",
];

pub(crate) const CONCLUSION_TEMPLATES: &[&str] = &[
    "In conclusion, although {t} {p}, I believe that its benefits are greater.",
    "To sum up, {t} {b}, but {g} must also be aware of its risks.",
    "In conclusion, both views have some merit, but I am convinced that {g} should take the lead.",
    "Overall, it seems clear that {t} will continue to play an important role in our lives.",
];

pub(crate) const CLOSING_TEMPLATES: &[&str] = &[
    "Only then will society be able to enjoy its advantages while avoiding its dangers.",
    "With careful planning, the problems can be reduced.",
    "It is therefore up to {g} to make the right decisions.",
    "This is the only sensible way forward.",
];

/// Task 1 templates. Slots: {t} topic, {i} item, {i2} another item, {n}/{m} figures,
/// {lo}/{hi} a figure below/above the previous one, {y}/{y2} years, {v} a verb of change.
pub(crate) const T1_INTRO: &[&str] = &[
    "The chart illustrates changes in {t} over the period shown.",
    "The given diagram provides information about {t}.",
    "The graph compares several categories related to {t}.",
];

pub(crate) const T1_OVERVIEW: &[&str] = &[
    "Overall, it is clear that {i} {v} significantly, while {i2} remained relatively stable.",
    "Overall, the most noticeable feature is the dramatic change in {i}.",
    "In general, {i} accounted for the largest share throughout the period.",
];

pub(crate) const T1_BODY: &[&str] = &[
    "In {y}, {i} stood at {n}%, compared with only {lo}% for {i2}.",
    "The figure for {i} rose from {n}% in {y} to {hi}% in {y2}.",
    "The figure for {i} fell from {n}% in {y} to {lo}% in {y2}.",
    "By contrast, {i2} {v} slightly over the same period.",
    "{i} and {i2} followed a similar pattern until {y}.",
    "The proportion of {i} peaked at {n}% in {y} before falling back to {lo}%.",
    "Meanwhile, the share of {i2} was roughly {n}% throughout.",
    "It is interesting to note that {i} overtook {i2} in {y}.",
    "After that, the number {v} steadily, reaching {m}% by {y2}.",
];

pub(crate) const T1_ITEMS: &[&str] = &[
    "buses",
    "trains",
    "cars",
    "bicycles",
    "heating",
    "lighting",
    "appliances",
    "agriculture",
    "industry",
    "domestic use",
    "the UK",
    "Canada",
    "Australia",
    "the USA",
    "young adults",
    "people over 65",
    "housing",
    "transport",
    "leisure",
    "food",
];

pub(crate) const T1_VERBS: &[&str] = &[
    "rose",
    "fell",
    "increased",
    "decreased",
    "grew",
    "declined",
    "dropped",
    "climbed",
    "fluctuated",
];

/// The examiner's voice. Slots: {c} criterion name, {s} band score, {w} a word from the essay.
pub(crate) const CRITERIA: [(&str, &str); 4] = [
    ("task_achievement", "Task Achievement"),
    ("coherence_cohesion", "Coherence and Cohesion"),
    ("lexical_resource", "Lexical Resource"),
    ("grammatical_range", "Grammatical Range and Accuracy"),
];

pub(crate) const FEEDBACK_OPENINGS: &[&str] = &[
    "Thank you for your essay! Estimated band: {s}.",
    "Good effort. Your essay is estimated at band {s}.",
    "A reasonable response, estimated at band {s}.",
    "Well done. Your overall band is about {s}.",
];

pub(crate) const FEEDBACK_CRITERION: &[&str] = &[
    "{c} ({s}): all parts of the task are covered, but ideas need examples.",
    "{c}: {s}. The position is not always clear.",
    "{c} ({s}): logically organised, with clear paragraphs.",
    "{c}: {s}. Linking words such as \"however\" are used mechanically.",
    "{c} ({s}): a good range, including \"{w}\".",
    "{c} ({s}): some errors in word choice and collocation.",
    "{c}: {s}. A mix of simple and complex sentences.",
    "{c} ({s}): errors with articles and agreement.",
    "{c}: {s}. The overview is clear, but details are missing.",
    "{c} ({s}): try not to repeat \"{w}\" so often.",
];

pub(crate) const FEEDBACK_CLOSINGS: &[&str] = &[
    "Keep practising — you are making good progress!",
    "With more attention to accuracy, a higher band is within reach.",
    "Try rewriting this essay using the suggestions below and submit it again.",
    "Good luck with your exam preparation!",
];

pub(crate) const SUGGESTIONS: &[&str] = &[
    "Give specific examples.",
    "Sharpen your thesis.",
    "Vary linking words.",
    "Check subject–verb agreement.",
    "Use precise vocabulary.",
    "Add a clear overview.",
    "Quote chart figures.",
    "Avoid words like \"kids\".",
    "Combine short sentences.",
    "Restate your opinion.",
    "Check a/an/the.",
    "Paraphrase the question.",
    "Proofread for 2–3 minutes.",
    "Use the passive for processes.",
    "Don't repeat ideas.",
];

pub(crate) const JUSTIFICATIONS: &[&str] = &[
    "All parts of the task are addressed.",
    "Ideas are relevant but underdeveloped.",
    "Clear progression throughout.",
    "Cohesive devices are overused.",
    "Adequate range with some precision.",
    "Occasional errors in word choice.",
    "A mix of simple and complex forms.",
    "Errors rarely reduce clarity.",
    "The overview lacks key features.",
    "Some less common lexical items.",
];

pub(crate) const MODELS: &[&str] = &[
    "gpt-4o-mini",
    "gpt-4o-mini",
    "gpt-4o-mini",
    "gpt-4o-2024-08-06",
    "gpt-4.1-mini",
    "claude-3-5-haiku-20241022",
];
