"""Labelled examples for the offline provider, written by hand before the algorithm was tuned.

Original text across domains (reviews, news, science, business, support tickets, history). Gold labels
describe what a careful human reader would say; they are not adjusted to what the provider returns.
"""

from __future__ import annotations

from typing import NamedTuple


class SentimentCase(NamedTuple):
    domain: str
    text: str
    label: str


class QACase(NamedTuple):
    text: str
    question: str
    fact: str


class SummaryCase(NamedTuple):
    name: str
    text: str
    central: str


SENTIMENT_CASES: list[SentimentCase] = [
    # --- positive ---
    SentimentCase(
        "product review",
        "I bought this blender last month and it has been fantastic. It crushes ice in seconds, it is "
        "easy to clean, and it is surprisingly quiet. Best kitchen purchase I've made in years.",
        "positive",
    ),
    SentimentCase(
        "restaurant",
        "We had dinner at Marlowe's on Friday. The pasta was perfectly cooked, the staff were warm and "
        "attentive, and the tiramisu was delicious. We will definitely be back.",
        "positive",
    ),
    SentimentCase(
        "support ticket",
        "Thank you so much for resolving my billing issue so quickly. Priya was patient, clear and "
        "genuinely helpful. I really appreciate the excellent service.",
        "positive",
    ),
    SentimentCase(
        "business",
        "Quarterly revenue grew 18% and the company beat analyst expectations for the third straight "
        "quarter. Management raised its full-year guidance, citing strong demand and healthy margins.",
        "positive",
    ),
    SentimentCase(
        "travel",
        "The hotel exceeded every expectation. Our room had a stunning view of the harbour, the breakfast "
        "was generous, and the location made it easy to walk everywhere. Highly recommended.",
        "positive",
    ),
    SentimentCase(
        "software",
        "Version 4.2 is a huge improvement. Startup is noticeably faster, the new dark mode looks great, "
        "and the crashes I used to see are gone. Nice work, team.",
        "positive",
    ),
    SentimentCase(
        "science news",
        "Researchers celebrated a major breakthrough this week: a new vaccine candidate protected 95% of "
        "participants in a late-stage trial. Scientists called the results remarkable and encouraging.",
        "positive",
    ),
    SentimentCase(
        "employee feedback",
        "Working here has been a wonderful experience. My manager supports my growth, my colleagues are "
        "friendly, and I am proud of what we build together.",
        "positive",
    ),
    SentimentCase(
        "book review",
        "This novel is a triumph. The characters feel alive, the dialogue sparkles, and the ending is both "
        "surprising and deeply satisfying. I loved every page.",
        "positive",
    ),
    SentimentCase(
        "app review",
        "Love this app! It is simple, beautiful and it just works. Syncing between my phone and laptop is "
        "seamless.",
        "positive",
    ),
    SentimentCase(
        "history",
        "The reforms were widely celebrated. Historians praise them as a brilliant success that brought "
        "peace and prosperity to the region for a generation.",
        "positive",
    ),
    SentimentCase(
        "online shop",
        "The delivery arrived a day early and everything was packed carefully. The quality of the fabric "
        "is lovely and the fit is perfect.",
        "positive",
    ),
    SentimentCase(
        "education",
        "The online course was clear, engaging and well organised. The instructor explains difficult "
        "ideas with great examples, and I finally feel confident with statistics.",
        "positive",
    ),
    SentimentCase(
        "community",
        "Our volunteers did an amazing job at the community cleanup. Together we collected over two "
        "hundred bags of litter, and the park looks beautiful again. Thank you all!",
        "positive",
    ),
    SentimentCase(
        "sports",
        "What a brilliant performance by the home side. They dominated from the first whistle, scored "
        "three superb goals and fully deserved the win.",
        "positive",
    ),
    SentimentCase(
        "product review",
        "Great headphones. The sound is rich and clear, the noise cancelling works well on flights, and "
        "the battery easily lasts a whole week.",
        "positive",
    ),
    # --- negative ---
    SentimentCase(
        "product review",
        "The blender stopped working after two weeks. The motor smells like burning plastic, the lid "
        "leaks, and customer service never answered my emails. Total waste of money.",
        "negative",
    ),
    SentimentCase(
        "restaurant",
        "Terrible experience. We waited an hour for cold food, the waiter was rude when we complained, "
        "and the bill included dishes we never ordered.",
        "negative",
    ),
    SentimentCase(
        "support ticket",
        "This is the third time I am reporting this bug. The app crashes every time I try to upload a "
        "photo, and I have lost work twice. I am extremely frustrated and considering cancelling my "
        "subscription.",
        "negative",
    ),
    SentimentCase(
        "business",
        "Shares plunged 23% after the company reported a surprise loss and cut its dividend. Analysts "
        "warned that weak demand and rising debt could force further layoffs.",
        "negative",
    ),
    SentimentCase(
        "travel",
        "The flight was delayed six hours with no explanation, our luggage was lost, and the airline "
        "refused to pay for a hotel. Awful service from start to finish.",
        "negative",
    ),
    SentimentCase(
        "software",
        "The latest update is a disaster. Battery drain is horrible, notifications no longer arrive, and "
        "the settings menu is confusing and broken.",
        "negative",
    ),
    SentimentCase(
        "news",
        "The storm killed at least twelve people and destroyed hundreds of homes. Rescue teams are "
        "struggling to reach isolated villages, and officials fear the death toll will rise.",
        "negative",
    ),
    SentimentCase(
        "employee feedback",
        "Morale on the team is at an all-time low. Deadlines are impossible, management ignores our "
        "concerns, and several good people have already quit.",
        "negative",
    ),
    SentimentCase(
        "book review",
        "I could not finish this book. The plot is predictable, the characters are flat, and the writing "
        "is painfully dull.",
        "negative",
    ),
    SentimentCase(
        "app review",
        "Worst app ever. Full of ads, constantly logs me out, and it deleted my saved notes. Uninstalling.",
        "negative",
    ),
    SentimentCase(
        "history",
        "The famine was a catastrophe. Millions died of hunger and disease, and the government's cruel "
        "indifference made the suffering far worse.",
        "negative",
    ),
    SentimentCase(
        "online shop",
        "The jacket looked nothing like the photos. The zipper broke on the first day, the stitching is "
        "sloppy, and the return process is a nightmare.",
        "negative",
    ),
    SentimentCase(
        "education",
        "I'm disappointed with the course. The videos are outdated, the exercises contain errors, and "
        "nobody replies in the forum.",
        "negative",
    ),
    SentimentCase(
        "health news",
        "The hospital's emergency department is dangerously understaffed. Patients wait for hours in "
        "pain, and nurses say they are exhausted and overwhelmed.",
        "negative",
    ),
    SentimentCase(
        "support ticket",
        "My order never arrived and the tracking number doesn't work. I've been charged twice. Please "
        "refund me immediately, this is unacceptable.",
        "negative",
    ),
    SentimentCase(
        "film review",
        "The sequel is a mess: boring action scenes, a confusing story and jokes that fall flat.",
        "negative",
    ),
    # --- neutral ---
    SentimentCase(
        "local news",
        "The city council will meet on Tuesday to discuss the proposed changes to the bus timetable. The "
        "meeting starts at 7 p.m. in the town hall and is open to the public.",
        "neutral",
    ),
    SentimentCase(
        "science",
        "Water boils at 100 degrees Celsius at sea level. At higher altitudes the air pressure is lower, "
        "so water boils at a lower temperature.",
        "neutral",
    ),
    SentimentCase(
        "business",
        "The company will release its annual report on March 3. The report covers revenue, operating "
        "costs and headcount for the fiscal year ending in December.",
        "neutral",
    ),
    SentimentCase(
        "history",
        "The Treaty of Westphalia was signed in 1648. It ended the Thirty Years' War and is often cited as "
        "the origin of the modern state system.",
        "neutral",
    ),
    SentimentCase(
        "support ticket",
        "Hi, I would like to change the email address on my account from my old work address to my "
        "personal one. My account number is 48213. Thanks.",
        "neutral",
    ),
    SentimentCase(
        "instructions",
        "To reset the router, hold the button on the back for ten seconds until the light turns orange. "
        "Then wait two minutes for the device to restart.",
        "neutral",
    ),
    SentimentCase(
        "geography",
        "Lake Baikal is located in southern Siberia. It is the deepest lake in the world and holds roughly "
        "a fifth of the planet's unfrozen fresh water.",
        "neutral",
    ),
    SentimentCase(
        "policy",
        "Employees must submit expense reports within thirty days. Receipts should be attached as PDF "
        "files, and the finance team processes reports every Friday.",
        "neutral",
    ),
    SentimentCase(
        "technical docs",
        "The library supports Python 3.11 and later. It can be installed with pip and has no required "
        "dependencies beyond the standard library.",
        "neutral",
    ),
    SentimentCase(
        "economic news",
        "The central bank kept interest rates unchanged at 4.5 percent on Thursday. The next policy "
        "meeting is scheduled for June.",
        "neutral",
    ),
    SentimentCase(
        "biology",
        "Mitochondria are organelles found in most eukaryotic cells. They produce adenosine triphosphate, "
        "which cells use as a source of chemical energy.",
        "neutral",
    ),
    SentimentCase(
        "travel info",
        "The train departs from platform 4 at 08:15 and arrives in Leeds at 10:40. Passengers travelling "
        "with bicycles should book a space in advance.",
        "neutral",
    ),
    # --- mixed ---
    SentimentCase(
        "product review",
        "The camera takes gorgeous photos and the screen is bright and sharp. Unfortunately, the battery "
        "is terrible and the phone overheats whenever I play games.",
        "mixed",
    ),
    SentimentCase(
        "hotel review",
        "The hotel staff were lovely and the breakfast was excellent. However, our room was dirty, the air "
        "conditioning was broken, and the street noise was awful at night.",
        "mixed",
    ),
    SentimentCase(
        "event feedback",
        "The conference had brilliant keynote speakers and great networking. On the other hand, the venue "
        "was overcrowded, the wifi was useless and the catering was awful.",
        "mixed",
    ),
    SentimentCase(
        "product review",
        "I love the design of this laptop and the keyboard is a joy to type on. But the speakers are awful "
        "and the fan is annoyingly loud.",
        "mixed",
    ),
    SentimentCase(
        "business",
        "The new policy has clear benefits: commuting costs are down and many employees are happier. Yet "
        "some managers complain that collaboration has suffered badly and that onboarding new staff is "
        "harder.",
        "mixed",
    ),
    SentimentCase(
        "film review",
        "The film's visuals are stunning and the soundtrack is wonderful, but the script is weak and the "
        "pacing is painfully slow.",
        "mixed",
    ),
]


_CURIE = (
    "Marie Curie was born in Warsaw in 1867. She moved to Paris in 1891 to study physics and mathematics "
    "at the Sorbonne. In 1903 she shared the Nobel Prize in Physics with Pierre Curie and Henri Becquerel. "
    "She won a second Nobel Prize, in Chemistry, in 1911 for discovering polonium and radium."
)
_SUPPORT = (
    "Our support team is available Monday to Friday from 9 a.m. to 6 p.m. Central European Time. Refunds "
    "are processed within 5 business days after the returned item reaches our warehouse. Orders over 50 "
    "euros ship for free."
)
_NORTHWIND = (
    "Northwind Traders reported revenue of 4.2 billion dollars for 2023, up 12% from the previous year. "
    "The growth was driven mainly by strong sales in Asia. The company plans to open three new "
    "distribution centres in Vietnam next year. Its chief executive, Laura Jensen, said the firm would "
    "also invest in electric delivery vans."
)
_PHOTOSYNTHESIS = (
    "Photosynthesis converts light energy into chemical energy. It takes place mainly in the chloroplasts "
    "of plant cells. During the process, carbon dioxide and water are turned into glucose and oxygen. The "
    "green pigment chlorophyll absorbs mostly blue and red light."
)
_FIRE = (
    "The Great Fire of London began on 2 September 1666 in a bakery on Pudding Lane. It burned for four "
    "days and destroyed more than 13,000 houses and St Paul's Cathedral. Surprisingly, the recorded death "
    "toll was very low. The architect Christopher Wren later designed the new St Paul's Cathedral."
)
_TWO_FACTOR = (
    "To enable two-factor authentication, open Settings and choose Security. Select 'Authenticator app' "
    "and scan the QR code with your phone. If you lose your phone, you can sign in with one of the ten "
    "backup codes generated during setup."
)
_MUSEUM = (
    "The museum opens at 10:00 and closes at 18:00, except on Thursdays when it stays open until 21:00. "
    "Admission is free for children under 12. Adult tickets cost 15 euros."
)
_SLEEP = (
    "Adults should get seven to nine hours of sleep per night. Teenagers need more, about eight to ten "
    "hours. Regular lack of sleep is linked to weaker immunity and poorer concentration."
)
_HOLIDAY = (
    "New employees receive 25 days of paid holiday per year. Unused days can be carried over until the "
    "end of March. Parental leave is 16 weeks at full pay."
)
_REEFS = (
    "Coral reefs cover less than one percent of the ocean floor but support about a quarter of all marine "
    "species. Rising sea temperatures cause corals to expel the algae living in their tissues, a process "
    "known as bleaching. Without the algae, corals lose their main source of food."
)
_FINAL = (
    "The final was played in Lisbon in front of 60,000 fans. The visitors won 2-1 after extra time. Their "
    "captain, Ana Ribeiro, scored the winning goal in the 112th minute."
)
_INFLATION = (
    "Inflation fell to 2.3 percent in May, the lowest level in three years. Energy prices dropped "
    "sharply, while food prices continued to rise slowly. Economists expect the central bank to cut rates "
    "in the autumn."
)

QA_CASES: list[QACase] = [
    QACase(_CURIE, "Where was Marie Curie born?", "Warsaw"),
    QACase(_CURIE, "What did she discover?", "polonium"),
    QACase(_CURIE, "When did Curie move to Paris?", "1891"),
    QACase(_SUPPORT, "How long does it take to process a refund?", "5 business days"),
    QACase(_SUPPORT, "When is the support team available?", "Monday to Friday"),
    QACase(_NORTHWIND, "What drove the growth?", "Asia"),
    QACase(_NORTHWIND, "Who is the chief executive?", "Laura Jensen"),
    QACase(_NORTHWIND, "Where will the new distribution centres open?", "Vietnam"),
    QACase(_PHOTOSYNTHESIS, "Which pigment absorbs light?", "chlorophyll"),
    QACase(_PHOTOSYNTHESIS, "What are the products of photosynthesis?", "glucose and oxygen"),
    QACase(_FIRE, "Where did the Great Fire of London start?", "Pudding Lane"),
    QACase(_FIRE, "Who designed the new cathedral?", "Christopher Wren"),
    QACase(_TWO_FACTOR, "What can I do if I lose my phone?", "backup codes"),
    QACase(_MUSEUM, "How much is an adult ticket?", "15 euros"),
    QACase(_MUSEUM, "Until what time is the museum open on Thursdays?", "21:00"),
    QACase(_SLEEP, "How many hours of sleep do teenagers need?", "eight to ten"),
    QACase(_HOLIDAY, "How long is parental leave?", "16 weeks"),
    QACase(_REEFS, "What is bleaching?", "expel the algae"),
    QACase(_REEFS, "What share of marine species do reefs support?", "a quarter"),
    QACase(_FINAL, "Who scored the winning goal?", "Ana Ribeiro"),
    QACase(_FINAL, "Where was the final played?", "Lisbon"),
    QACase(_INFLATION, "What do economists expect the central bank to do?", "cut rates"),
]

UNANSWERABLE_QA_CASES: list[QACase] = [
    QACase(_PHOTOSYNTHESIS, "Who won the 1998 World Cup?", ""),
    QACase(_MUSEUM, "What is the capital of Australia?", ""),
]


SUMMARY_CASES: list[SummaryCase] = [
    SummaryCase(
        "coral reefs",
        "Coral reefs are among the most diverse ecosystems on Earth. Although reefs cover less than one "
        "percent of the ocean floor, they shelter roughly a quarter of all known marine species. Reefs "
        "also protect coastlines from storms and support fisheries that feed hundreds of millions of "
        "people.\n\nThe greatest threat to reefs today is rising sea temperature. When the water stays "
        "too warm for too long, corals expel the algae that live in their tissues and supply most of "
        "their food. This process, called bleaching, turns the reef white. A bleached reef can recover "
        "if temperatures fall quickly, but repeated bleaching events kill the corals. Scientists "
        "recorded mass bleaching on the Great Barrier Reef in 2016, 2017, 2020 and 2022.\n\nOther "
        "pressures add to the damage. Pollution from farms feeds algae that smother reefs, and "
        "destructive fishing breaks coral apart. Some researchers are breeding heat-tolerant corals and "
        "replanting damaged reefs, but they warn that restoration cannot keep pace unless global "
        "emissions fall.",
        "reef",
    ),
    SummaryCase(
        "remote work",
        "Two years after adopting a hybrid model, Fenwick Insurance has published the results of its "
        "remote work programme. Employees now spend an average of 2.5 days a week in the office. The "
        "company says remote work has cut its office costs by 30 percent and reduced staff turnover. "
        "Surveys show that most employees value the time they save on commuting.\n\nManagers report a "
        "more mixed picture. Some say that remote work makes it harder to train junior staff, who learn "
        "by watching experienced colleagues. Others note that meetings have multiplied because quick "
        "conversations at a desk now need a video call. The company has responded by introducing "
        "'anchor days', when whole teams come in together.\n\nFenwick plans to keep the hybrid model. "
        "Its chief operating officer, Dr. Helen Okafor, said the firm would review remote work "
        "arrangements every year and adjust them team by team, e.g. giving new hires more office "
        "time during their first six months.",
        "remote work",
    ),
    SummaryCase(
        "printing press",
        "Around 1440, Johannes Gutenberg developed a printing press with movable metal type in Mainz. "
        "Before the printing press, books in Europe were copied by hand, which made them rare and "
        "expensive. Gutenberg combined several existing technologies: the screw press used for wine and "
        "olive oil, oil-based inks, and type cast from a lead alloy. His most famous work, the Gutenberg "
        "Bible, was completed around 1455. Within fifty years, printing presses were operating in more "
        "than two hundred European cities. The printing press lowered the cost of books dramatically "
        "and helped spread literacy. It also allowed new ideas to travel quickly: the writings of "
        "Martin Luther reached thousands of readers within weeks in the 1520s. Historians often "
        "describe the printing press as one of the most important inventions of the second millennium. "
        "Scholars could now compare identical copies of a text, which supported the growth of science. "
        "Governments and churches, however, soon tried to control what was printed.",
        "printing press",
    ),
    SummaryCase(
        "support ticket",
        "Subject: Calendar sync stopped working after update\n\nHello,\n\nSince I installed version 8.3 "
        "of the desktop app on Monday, my calendar no longer syncs with my phone. Events I create on the "
        "laptop do not appear on the phone, and events from the phone show up on the laptop only after "
        "I restart the app. Before the update, sync worked instantly.\n\nI have already tried the "
        "following:\n- signing out and back in on both devices\n- reinstalling the desktop app\n- "
        "checking that both devices use the same account\n\nNone of this fixed the sync problem. My "
        "team relies on the shared calendar for client meetings, so missing events is causing real "
        "trouble. Could you tell me whether this is a known issue with 8.3 and whether I should roll "
        "back to the previous version?\n\nThanks,\nDaniel",
        "sync",
    ),
    SummaryCase(
        "robot vacuum review",
        "I have used the Tidy R5 robot vacuum for three months in a two-bedroom flat with wooden floors "
        "and two cats. The vacuum maps the flat on its first run and then cleans room by room, which "
        "works remarkably well. Suction is strong enough to pick up cat hair from the rug, and the "
        "vacuum rarely gets stuck under furniture. The app lets me block areas, such as the cats' food "
        "corner, and schedule cleaning while I am at work. Battery life is about 90 minutes, enough for "
        "the whole flat on one charge. There are downsides. The dust bin is small and must be emptied "
        "after every run, and the vacuum is fairly loud on its highest setting. It also struggles with "
        "thick cables, which it sometimes drags around. Overall, the R5 is a very good robot vacuum "
        "for its price of 299 euros, especially for pet owners who want daily cleaning without effort.",
        "vacuum",
    ),
    SummaryCase(
        "flood news",
        "Heavy rain caused severe flooding across the Elm Valley on Saturday, forcing more than 2,000 "
        "residents to leave their homes. The river rose 3.5 metres in less than twelve hours, its "
        "highest level since records began in 1952. Emergency services rescued dozens of people from "
        "rooftops and cars. Two bridges were closed after flood water damaged their supports, cutting "
        "off several villages. Schools in the valley will stay closed until Wednesday. The regional "
        "government has declared a state of emergency and promised funds to help families whose "
        "homes were flooded. Meteorologists warned that more rain is expected on Monday, and that "
        "the flood risk will remain high for the rest of the week. Residents are advised to follow "
        "instructions from local authorities and avoid driving through flood water.",
        "flood",
    ),
    SummaryCase(
        "sleep and memory",
        "Sleep plays a central role in forming long-term memories. During the day, new information is "
        "stored temporarily in the hippocampus. During deep sleep, the brain replays these experiences "
        "and transfers them to the cortex, where they are stored more permanently. In one experiment, "
        "students who slept after learning a list of words remembered 20 percent more of them the next "
        "day than students who stayed awake. Lack of sleep has the opposite effect: people deprived of "
        "sleep for a single night find it harder to learn new material the following day. Researchers "
        "also found that short naps of 60 to 90 minutes can improve memory if they include deep sleep. "
        "Caffeine and alcohol both reduce the quality of sleep and may therefore weaken memory. "
        "Scientists recommend regular sleep schedules, especially for students before exams.",
        "sleep",
    ),
    SummaryCase(
        "quarterly earnings",
        "Halvorsen Foods reported third-quarter revenue of 1.8 billion dollars, an increase of 9 percent "
        "compared with the same quarter last year. Revenue growth came mainly from the company's frozen "
        "meals division, where sales rose 15 percent after a successful product launch in the U.S. "
        "Operating profit, however, fell slightly because of higher costs for packaging and transport. "
        "The company's chief financial officer said that price increases introduced in August should "
        "restore margins by the end of the year. Halvorsen confirmed its full-year revenue forecast of "
        "7.1 billion dollars. It also announced plans to buy a small organic bakery chain in Denmark for "
        "an undisclosed sum. Shares in the company rose 4 percent in early trading after the results "
        "were published.",
        "revenue",
    ),
    SummaryCase(
        "release notes",
        "Atlas 3.0 release notes\n\nAtlas 3.0 is the largest release of the mapping library so far. "
        "The main change in Atlas 3.0 is a new rendering engine that draws maps on the GPU, which makes "
        "panning and zooming up to five times faster on large data sets.\n\nOther changes in this "
        "release:\n* Offline mode: map tiles can now be downloaded in advance and used without a network "
        "connection.\n* A new plugin API replaces the old extension hooks.\n* Support for Python 3.8 "
        "has been dropped; Atlas 3.0 requires Python 3.10 or later.\n\nUpgrading from version 2.x "
        "requires changes to code that used the old extension hooks. A migration guide is available in "
        "the documentation, and the 2.x series will receive security fixes until June 2026.",
        "Atlas 3.0",
    ),
    SummaryCase(
        "roman aqueducts",
        "The ancient Romans built aqueducts to bring fresh water into their cities from distant springs "
        "and rivers. Most aqueducts ran underground in channels cut through rock or built from stone; "
        "the famous arched bridges carried the water only across valleys. Roman engineers designed "
        "aqueducts with a very gentle downward slope, so that gravity alone moved the water over "
        "distances of up to 90 kilometres. By the 3rd century A.D., eleven aqueducts supplied the city "
        "of Rome with about one million cubic metres of water a day. The water filled public fountains, "
        "baths and the homes of wealthy citizens. Maintaining the aqueducts required a large workforce, "
        "and officials known as curatores aquarum supervised repairs. Several Roman aqueducts, such as "
        "the Pont du Gard in southern France, still stand today.",
        "aqueducts",
    ),
    SummaryCase(
        "antibiotic resistance",
        "Antibiotic resistance occurs when bacteria evolve so that the drugs designed to kill them no "
        "longer work. Every time an antibiotic is used, bacteria that happen to survive can multiply and "
        "pass on their resistance. Overuse of antibiotics in medicine and agriculture has greatly "
        "accelerated this process. The World Health Organization considers antibiotic resistance one "
        "of the biggest threats to global health. Infections such as pneumonia and tuberculosis are "
        "becoming harder to treat, and routine operations become riskier when antibiotics fail. Doctors "
        "are being urged to prescribe antibiotics only when they are truly needed, and patients are "
        "asked to finish every course they are given. At the same time, few new antibiotics are being "
        "developed, because the research is expensive and the drugs earn little profit.",
        "antibiotic",
    ),
]


# Written after the lexicon adaptation, and never used for tuning: an honest check that the method
# generalises beyond the examples above.
HELDOUT_SENTIMENT_CASES: list[SentimentCase] = [
    SentimentCase(
        "product review",
        "Setup took five minutes and the printer has worked flawlessly ever since. Prints are crisp, it "
        "connects to every laptop in the house, and the ink lasts much longer than my old one. The only "
        "small annoyance is that the paper tray feels a bit flimsy.",
        "positive",
    ),
    SentimentCase(
        "restaurant",
        "The soup was bland, the steak arrived overcooked, and we had to ask three times for water. The "
        "dessert was nice, but it does not make up for an expensive and disappointing evening.",
        "negative",
    ),
    SentimentCase(
        "support ticket",
        "Hello, my invoice for April shows the wrong VAT number. Could you please issue a corrected "
        "invoice with number DE811234567? Kind regards, Tomasz",
        "neutral",
    ),
    SentimentCase(
        "support ticket",
        "Your agent solved the problem in ten minutes and even followed up the next day to check that "
        "everything still worked. That is the kind of service that keeps me as a customer.",
        "positive",
    ),
    SentimentCase(
        "support ticket",
        "I have been waiting nine days for a reply. Every time I call I am put on hold for forty minutes "
        "and then disconnected. I expected much better from a company this size.",
        "negative",
    ),
    SentimentCase(
        "news",
        "The ministry published the new school calendar on Monday. Autumn holidays will begin on 21 "
        "October, and the spring term ends on 4 April.",
        "neutral",
    ),
    SentimentCase(
        "news",
        "Thousands of residents were left without power after the blizzard, and several roads remain "
        "blocked. Two elderly people were found dead in their homes.",
        "negative",
    ),
    SentimentCase(
        "news",
        "The rescued miners were reunited with their families last night, to cheers from the crowd. "
        "Doctors said all eleven men are in good health and should go home within days.",
        "positive",
    ),
    SentimentCase(
        "science",
        "The telescope observed the galaxy for 40 hours in infrared light. The data will be released to "
        "astronomers next year.",
        "neutral",
    ),
    SentimentCase(
        "business",
        "The merger collapsed after regulators raised serious objections, and both companies now face "
        "costly legal battles. Investors reacted angrily, sending shares to a five-year low.",
        "negative",
    ),
    SentimentCase(
        "business",
        "Profits doubled this year, our new stores are thriving, and customer satisfaction scores have "
        "never been higher. We are excited about the year ahead.",
        "positive",
    ),
    SentimentCase(
        "history",
        "The canal was completed in 1825 and connected the Great Lakes with the Atlantic Ocean. It was "
        "about 580 kilometres long and had 83 locks.",
        "neutral",
    ),
    SentimentCase(
        "history",
        "The siege lasted eight brutal months. The defenders starved, disease spread through the city, "
        "and when it finally fell the victors burned most of it to the ground.",
        "negative",
    ),
    SentimentCase(
        "app review",
        "Not bad at all. The interface is clean and it does what it promises, and the developer answers "
        "questions quickly.",
        "positive",
    ),
    SentimentCase(
        "app review",
        "It is not good. The app is slow to open, the search never finds anything, and my data did not sync.",
        "negative",
    ),
    SentimentCase(
        "hotel review",
        "The location is perfect and the rooftop bar has a fantastic view. Sadly the room was tiny, the "
        "shower was cold every morning and the staff were unfriendly.",
        "mixed",
    ),
    SentimentCase(
        "employee feedback",
        "I enjoy the work itself and my teammates are great. However, the pay is poor, promotions are "
        "unfair and the constant overtime is exhausting.",
        "mixed",
    ),
    SentimentCase(
        "technical docs",
        "The function returns a list of tuples. Each tuple contains the file name and its size in bytes, "
        "sorted by name.",
        "neutral",
    ),
    SentimentCase(
        "course review",
        "An inspiring and beautifully structured course. I learned more in six weeks than in a year of "
        "self-study, and I would happily recommend it to any beginner.",
        "positive",
    ),
    SentimentCase(
        "product review",
        "The charger stopped charging after a month and the cable frayed near the plug. I would not buy "
        "this brand again.",
        "negative",
    ),
]


# Written last and run once, with no change to the method afterwards: the most honest estimate.
BLIND_SENTIMENT_CASES: list[SentimentCase] = [
    SentimentCase(
        "product review",
        "This kettle is a delight. It boils water in under two minutes, the handle stays cool, and it "
        "looks elegant on the counter.",
        "positive",
    ),
    SentimentCase(
        "product review",
        "The vacuum lost suction after a few weeks and now just pushes dirt around. The filter clogs "
        "constantly and replacement parts are absurdly expensive.",
        "negative",
    ),
    SentimentCase(
        "support ticket",
        "Please update the delivery address for order 5521 to 14 Mill Street, Bristol. The rest of the "
        "order stays the same.",
        "neutral",
    ),
    SentimentCase(
        "support ticket",
        "I was charged for a premium plan I never signed up for, and the cancel button in the app does "
        "nothing. This feels like a scam and I want my money back.",
        "negative",
    ),
    SentimentCase(
        "support ticket",
        "Just wanted to say the new export feature saves me hours every week. Fantastic job, and thanks "
        "to the team for listening to our feedback.",
        "positive",
    ),
    SentimentCase(
        "news",
        "The bridge will be closed to traffic from 8 June to 12 June for inspection. Buses will use a "
        "diversion through the industrial estate.",
        "neutral",
    ),
    SentimentCase(
        "news",
        "The village celebrated as its football club won promotion for the first time in its history. "
        "Fans filled the streets, singing and dancing late into the night.",
        "positive",
    ),
    SentimentCase(
        "news",
        "A fire at the chemical plant forced the evacuation of nearby homes, and three workers were "
        "seriously injured. Investigators suspect a faulty valve.",
        "negative",
    ),
    SentimentCase(
        "science",
        "The study followed 2,400 adults for ten years and recorded their diet, weight and blood "
        "pressure at annual check-ups.",
        "neutral",
    ),
    SentimentCase(
        "science news",
        "The trial was stopped early after the drug caused severe side effects in a third of patients, "
        "a serious setback for the company.",
        "negative",
    ),
    SentimentCase(
        "business",
        "The board appointed a new chief financial officer, who will take up the role in September. "
        "She previously worked at two logistics firms.",
        "neutral",
    ),
    SentimentCase(
        "business",
        "Our partnership with the university has been extraordinarily productive: three joint patents, "
        "a thriving internship programme and a very happy research team.",
        "positive",
    ),
    SentimentCase(
        "history",
        "The invasion devastated the countryside. Crops were burned, towns were looted and thousands of "
        "refugees fled north in terrible conditions.",
        "negative",
    ),
    SentimentCase(
        "history",
        "The library of the monastery held around 3,000 manuscripts, most of them copies of religious "
        "texts made in the twelfth century.",
        "neutral",
    ),
    SentimentCase(
        "travel review",
        "A magical week. The island is peaceful, the beaches are spotless and the locals were incredibly "
        "welcoming. We are already planning our next visit.",
        "positive",
    ),
    SentimentCase(
        "app review",
        "Gorgeous design and the widgets are really handy, but the app drains my battery terribly and "
        "crashes at least once a day.",
        "mixed",
    ),
    SentimentCase(
        "restaurant",
        "The starters were excellent and the wine list is superb. Unfortunately the main courses were "
        "lukewarm, the service was painfully slow and the bill was a shock.",
        "mixed",
    ),
    SentimentCase(
        "course review",
        "The lectures were fascinating and the professor clearly loves the subject. The assessments, "
        "though, were badly designed and the grading felt arbitrary and unfair.",
        "mixed",
    ),
    SentimentCase(
        "employee feedback",
        "After the reorganisation nobody knows who is responsible for what. Decisions take weeks, and "
        "frustrated colleagues are leaving.",
        "negative",
    ),
    SentimentCase(
        "book review",
        "A gentle, funny and moving story. I laughed out loud several times and the final chapter "
        "brought tears to my eyes.",
        "positive",
    ),
]
