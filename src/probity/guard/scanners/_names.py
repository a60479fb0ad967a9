"""Gazetteers for the PII name recogniser: common given names and surnames across languages,
surname endings, honorifics, and capitalised words that are not names.

Hand-written lists (no data download). Given names are the strongest signal of a person's
name in text without a named-entity model; surname endings (-son, -sen, -ov, -ić, -ski,
-ez ...) catch the family names the list lacks.
"""

from __future__ import annotations

_GIVEN = """
aaron abby abdul abdullah abel abigail abraham ada adam adela adele adelina adrian adriana
adrienne agata agata agatha agnes agnieszka ahmad ahmed aida aidan aiko aileen aimee aino
aisha akira akiko alain alan alba albert alberta alberto albin alejandra alejandro aleksander
aleksandra aleksei alena alessandra alessandro alessia alex alexa alexander alexandra alexandre
alexandru alexei alexis alfie alfonso alfred alfredo ali alice alicia alina alison alistair
allan allison alma alois alvaro alya amanda amber amelia amelie amir amit amy ana anabel
anastasia anders andrea andreas andrei andrej andres andrew andrzej andy aneta angel angela
angelica angelika angelina angelo anita anja ann anna annabel annalisa anne anneli annette
annie anthony antoine anton antonia antonin antonio antonella anya aoife april arash archie
ariana ariel arjun arnaud arne arnold aron arthur arturo arvid asa asher ashley asif astrid
aurelia aurelie aurora austin ava axel ayaka ayumi aziz barbara barbora barry bart bartosz
basil bastian beata beatrice beatriz beatrix becky ben benedict benedikt benito benjamin
bernadette bernard bernardo bernd berta bertrand beth bethany betty bianca bill birgit bjorn
blanca blake bo bogdan bohdan bonnie boris bozena brad bradley brandon brenda brendan brian
bridget brigitte britta brooke bruce bruno bryan caitlin caleb callum camila camille carina
carl carla carlo carlos carmen carol carolina caroline carolyn carsten casey cassandra
catalina caterina catherine cecilia cedric celia celine cesar chad charles charlie charlotte
chelsea cheng cheryl chiara chloe chris christa christian christina christine christoph
christophe christopher cindy claire clara clare claudia claudio claus clemens colin connor
conor constance constantin cora corinne cornelia craig cristian cristina curtis cynthia
czeslaw dagmar daisy dale dalia damian damien dan dana daniel daniela daniele danielle danny
daria dariusz darius darren dave david dawid dawn dean debbie deborah declan deepak denis
denise dennis derek desmond diana diane diego dieter dimitri dimitris dina dirk dmitri
dmitry dolores dominic dominik dominika dominique donald donna dora doris dorothy douglas
duncan dylan eamon ed eddie edgar edith edmund eduard eduardo edward edwin eero eileen
elaine eleanor elena eleni eli elias elif elijah elin elisa elisabeth elisabetta elise eliza
elizabeth ella ellen ellie elliot eloise elsa elsie emanuel emanuele emil emilia emilie
emilio emily emma emmanuel enrico enrique enzo eric erica erik erika erin ernest ernesto
ernst esra esther ethan eugene eva evan eve evelyn ewa ewelina fabian fabio fabrizio farah
fatima federica federico felicity felipe felix fernanda fernando filip filippo fiona flavia
florence florian fran frances francesca francesco francis francisco franck frank franz
fred freddie frederick frederik freya frida friedrich gabriel gabriela gabriele gabrielle
gareth gary gavin gemma genevieve geoffrey george georg georgia georgios gerald gerard
gerhard gianluca gianni gilbert gillian gina giorgia giorgio giovanna giovanni gisela giulia
giulio giuseppe gloria goran gordon grace graham grant greg gregor gregory greta grzegorz
guadalupe gudrun guido guillaume gunnar gunter gustav gustavo hakan hamza hana hanna hannah
hannes hans harald harold harper harriet harrison harry harvey hassan heather hector hedda
heidi heike heinrich heinz helen helena helene helga henri henrik henrique henry herbert
hermann hilda hiroshi holly honza howard hugo hussein iain ian ibrahim ida ignacio igor ilona
ilse imogen ines inga inge ingrid irene irina iris irma isaac isabel isabella isabelle
isaiah ismael ivan ivana ivo iwona jack jackie jackson jacob jacqueline jacques jade jaime
jake jakob jakub james jamie jan jana jane janet janice janina janusz jaroslav jaroslaw jason
javier jay jean jeanne jeff jeffrey jelena jennifer jenny jens jeremy jerome jerzy jesper
jessica jesus jill jim jimmy jiri jo joan joanna joao jocelyn jodie joe joel johan johanna
johannes john johnny jon jonas jonathan jordan jorge jose josef joseph josephine josh joshua
josiane joy joyce juan juana judith judy julia julian juliana julie julien julio juliette
jun jurgen justin justyna jutta kai kamil kamila karen karin karina karl karla karolina
kasia kasper kate katarina katarzyna katharina katherine kathleen kathryn katie katrin
katya kay keith kelly ken kenji kenneth kerry kevin khalid kim kimberly kirsten klaus
klara konrad kristian kristina kristin krisztina krystyna krzysztof kurt kyle lars laura
laure lauren laurence laurent lea leah lee lena leo leon leonard leonardo leonie leopold
lewis liam lidia liesbeth lila lily lina linda lindsay lisa liv livia liz lorena lorenzo
lorraine lotte louis louise luc luca lucas lucia luciana luciano lucie lucy ludmila ludwig
luis luisa lukas lukasz luke luna lydia lynn madeleine madison magda magdalena maggie
magnus mahmoud maja malcolm malgorzata malin manon manuel manuela marc marcel marcela
marcello marcin marco marcos marcus margaret margarita margit margot maria mariana marianne
marie marek mariam marina mario marion marisa marius marjorie mark marko markus marlene
marta martha martin martina marty mary maryam mason massimo mateo mateus mathias mathilde
matilda matt matteo matthew matthias mattia maureen maurice mauricio max maxim maxime maximilian
maya megan mehmet melanie melissa mercedes mia michael michaela michal michel michele
michelle miguel mikael mikhail mila milan milena miriam mirko miroslav mitchell mohamed
mohammad mohammed molly monica monika morgan muhammad murat nadia nadine naomi natalia
natalie natasha nathalie nathan nathaniel neil nela nelson nicholas nick nicola nicolas
nicole niels nik nikita niklas nikola nikolai nikolaos nils nina noah noelle noemi nora
norbert norma nuno olaf oleg olga oliver olivia olivier omar oscar oskar otto owen pablo
paola paolo pascal patricia patrick patrik paul paula paulina pauline pavel pavla pawel
pedro peggy penelope per peter petr petra philip philipp philippe phoebe pia piero pierre
pietro piotr pol polly priya rachel rafael rafal raffaele rahul raj ralph ramon randy raphael
raquel rasmus raul ray raymond rebecca regina reinhard rena renata renate rene ricardo
riccardo richard rick rita rob robert roberta roberto robin rocco roger roland rolf roman
romina ronald rosa rosalind rose rosemary ross ruben rudolf rui russell ruth ryan ryszard
sabine sabrina sally salma salvatore sam samantha samir samuel sandra sandro sanna sara
sarah sascha sasha saskia satoshi scott sean sebastian sebastien selma serena sergei sergey
sergio seth shannon sharon shaun sheila shirley sian sigrid silke silvia simon simona simone
sina siobhan sofia sofie sonia sonja sophia sophie stacy stanislav stefan stefania stefano
stella stephan stephanie stephen steve steven stuart susan susanne suzanne sven svetlana
sylvia sylvie szymon takashi tamara tanja tanya tatiana ted teresa terry thea theo theodor
theresa thierry thomas tiago tim timo timothy tina tobias todd tom tomas tomasz tommaso tommy
toni tony tove tracy trevor troy ulrich ulla ulrike una ursula uwe valentina valentin
valeria valerie vanessa vasily vera veronica veronika vicente victor victoria viktor
viktoria vincent vincenzo viola violet virginia vittoria vivian vladimir vojtech walter
wanda wayne wendy werner wiktoria wilhelm will william willem wojciech wolfgang xavier
xiaoming yan yannick yasmin yosef yuki yulia yuri yusuf yves zachary zbigniew zdenek
zofia zoe zoltan zuzana
akos andras attila balazs bence csaba dora eszter ferenc gabor gyorgy istvan janos jozsef
judit kata laszlo levente marton mihaly nandor orsolya peter reka sandor szabina tamas
zsofia zsuzsanna krisztian agnes ildiko erzsebet
aleksi antti eino elina hanna heikki ilkka jari jukka juha kaarina kalle kari leena liisa
markku matti mikko minna niina olli pekka pirjo riikka sari seppo tapani tiina timo tuomas
tuula ville aatu aapo
anders bengt bjorn birgitta elsa goran gunilla hakan ingrid jonas kerstin lena lennart
linnea mats maja ola pernilla solveig stig ulf vilma mette sten torben kirsten jorgen
mads morten nanna rikke soren
ana bojan dragan dusan goran ivana jovan luka marija milica milos nemanja nikola petar
stefan vesna zoran ante ivica josip mateja mirela tomislav vlatko djordje amra emina
edin emir haris jasmina kenan lejla mirza nermin samir selma senad adnan almir alma
jindrich jiri katerina lenka lucie marketa martin ondrej radek tereza vaclav vit zdenka
bohumil jaromir kvetoslava ludmila miloslav
bonifacy czeslawa wieslaw wladyslaw waclawa jadwiga halina danuta grazyna bozena teresa
stanislawa zdzislaw tadeusz kazimierz leszek mariusz przemyslaw sylwia urszula
aleksey anatoly andrey boris dmitriy evgeny fedor galina gennady igor ilya inna irina kirill
konstantin larisa lyudmila maksim marina nadezhda natalya nikolay oksana pavel roman ruslan
stanislav tatyana timur valentina valery vasiliy viktor vitaly yaroslav yelena yevgeny yulia
ahmet ayse burak cem deniz elif emre fatma hakan hasan huseyin kemal mustafa ozlem
selin serkan yusuf zeynep
akio daiki haruka haruto hina hiroko hiroki kaito kazuki keiko kenta koji mai makoto mariko
masato megumi miho minoru naoki naoko riku rin ryota sakura shota sora taro tomomi yoko yui
yuna yusuke
bao chen fang hui jie jing lei li ling mei min ming ping qiang wei xin xiu yan yang ying yong
yu zhen zhi
aarav aditya amit ananya anil anjali arjun deepika divya ganesh gaurav ishaan kavya krishna
lakshmi manoj meera neha nikhil pooja pradeep rajesh ravi rohan sanjay shreya sunil suresh
vijay vikram
abdel amina farid habib hamid hussain jamal karim khaled laila layla leila malik mariam
mustafa nabil nadia omar rania rashid salim sami tariq yasmin youssef zahra zainab
beatriz bruna caio camila diogo eduarda felipe gabriela guilherme heitor joao larissa leticia
lucas luiza matheus rafaela renata thiago vinicius yasmin
agustin alvaro andres barbara carlota cayetana concepcion consuelo dolores encarnacion
esperanza fernando gonzalo hernan ignacio inmaculada jimena lorenzo macarena marisol
montserrat nieves pilar rocio santiago soledad
amedeo arturo carmela cosimo fiammetta gaetano gennaro ludovica ottavio rosalia vittorio
"""

_SURNAMES = """
smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez
gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris
sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill
flores green adams nelson baker hall rivera campbell mitchell carter roberts gomez phillips
evans turner diaz parker cruz edwards collins reyes stewart morris morales murphy cook rogers
gutierrez ortiz morgan cooper peterson bailey reed kelly howard ramos kim cox ward richardson
watson brooks chavez wood james bennett gray mendoza ruiz hughes price alvarez castillo
sanders patel myers long ross foster jimenez powell jenkins perry russell sullivan bell
coleman butler henderson barnes gonzales fisher vasquez simmons romero jordan patterson
alexander hamilton graham reynolds griffin wallace moreno west cole hayes bryant herrera
gibson ellis tran medina aguilar stevens murray ford castro marshall owens harrison
fernandez mcdonald woods washington kennedy wells vargas henry chen freeman webb tucker
guzman burns crawford olson simpson porter hunter gordon mendez silva shaw snyder mason
dixon munoz hunt hicks holmes palmer wagner black robertson boyd rose stone salazar fox
warren mills meyer rice schmidt garza daniels ferguson nichols stephens soto weaver ryan
gardner payne grant dunn kelley spencer hawkins arnold pierce vazquez hansen peters santos
hart bradley knight elliott cunningham duncan armstrong hudson carroll lane riley andrews
alvarado ray delgado berry perkins hoffman johnston matthews pena richards contreras willis
carpenter lawrence sandoval mueller muller schneider fischer weber becker schulz koch
richter klein wolf schroeder neumann schwarz zimmermann braun hofmann hartmann lange
krause lehmann werner rossi russo ferrari esposito bianchi romano colombo ricci marino
greco bruno gallo conti costa giordano mancini rizzo lombardi moretti barbieri fontana
santoro mariani rinaldi caruso ferrara galli martini leone longo gentile martinelli
vitale lombardo serra coppola devries jansen bakker visser smit meijer mulder bos vos
peeters dubois durand leroy moreau simon laurent lefebvre michel bertrand roux vincent
fournier morel girard andre mercier blanc guerin boyer garnier chevalier francois legrand
gauthier perrin robin clement morin nicolas henry roussel mathieu gautier masson
nowak kowalski wisniewski wojcik kowalczyk kaminski lewandowski zielinski szymanski
wozniak dabrowski kozlowski jankowski mazur kwiatkowski krawczyk kaczmarek piotrowski
grabowski novak svoboda novotny dvorak cerny prochazka kucera vesely horak nemec
nagy kovacs toth szabo horvath varga kiss molnar nemeth farkas balogh papp takacs juhasz
korhonen virtanen makinen nieminen makela hamalainen laine heikkinen koskinen jarvinen
johansson andersson karlsson nilsson eriksson larsson olsson persson svensson gustafsson
pettersson jonsson jensen nielsen hansen pedersen andersen christensen larsen sorensen
rasmussen jorgensen petersen madsen kristensen olsen thomsen
ivanov smirnov kuznetsov popov vasiliev petrov sokolov mikhailov novikov fedorov morozov
volkov alekseev lebedev semenov egorov pavlov kozlov stepanov nikolaev orlov andreev
makarov zakharov
sato suzuki takahashi tanaka watanabe ito yamamoto nakamura kobayashi kato yoshida yamada
sasaki yamaguchi matsumoto inoue kimura hayashi shimizu yamazaki mori abe ikeda hashimoto
wang zhang liu yang huang zhao wu zhou xu sun ma zhu hu guo he lin luo zheng liang
singh kumar sharma gupta shah mehta reddy iyer nair rao joshi das
yilmaz kaya demir sahin celik yildiz yildirim ozturk aydin ozdemir arslan dogan kilic
silva santos oliveira souza lima pereira carvalho almeida ferreira rodrigues alves gomes
ribeiro martins rocha barbosa cardoso teixeira
"""

#: Surname endings that, on a capitalised word after a capitalised word, signal a name.
SURNAME_SUFFIXES = (
    "son",
    "sen",
    "sson",
    "ova",
    "ová",
    "ov",
    "ev",
    "eva",
    "ski",
    "ska",
    "sky",
    "skyi",
    "skiy",
    "vić",
    "vic",
    "ić",
    "ović",
    "enko",
    "chuk",
    "czuk",
    "czyk",
    "wicz",
    "owski",
    "ewski",
    "escu",
    "eanu",
    "yan",
    "ian",
    "dze",
    "shvili",
    "poulos",
    "opoulos",
    "idis",
    "akis",
    "oglu",
    "oğlu",
    "stein",
    "berg",
    "mann",
    "feld",
    "baum",
    "ez",
    "inen",
    "ainen",
    "lainen",
    "nen",
    "elli",
    "etti",
    "ini",
    "otti",
    "ucci",
    "acci",
    "ardi",
    "aldi",
    "dottir",
    "sdóttir",
    "aitė",
    "ienė",
    "ytė",
    "iūtė",
    "auskas",
    "evičius",
    "avičius",
    "ukas",
    "atti",
    "eiro",
    "inho",
    "quez",
    "zquez",
    "ssen",
    "mans",
    "kova",
    "ová",
    "sová",
    "ková",
    "czak",
    "szek",
    "lak",
    "ovich",
    "evich",
    "ovna",
    "evna",
    "ansen",
    "ström",
    "strom",
    "qvist",
    "kvist",
    "lund",
    "gren",
    "holm",
    "dahl",
    "eaux",
)

#: Honorifics that introduce a name (the honorific itself is not part of the name span).
TITLES = (
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "prof",
    "professor",
    "sir",
    "dame",
    "madam",
    "madame",
    "mme",
    "mlle",
    "monsieur",
    "herr",
    "frau",
    "señor",
    "senor",
    "señora",
    "senora",
    "sr",
    "sra",
    "signor",
    "signora",
    "lord",
    "lady",
    "rev",
    "father",
    "sister",
    "capt",
    "captain",
    "col",
    "gen",
    "sgt",
    "officer",
    "judge",
    "senator",
    "president",
)

#: Capitalised words that end a name run (organisations, places, street types, calendar).
_NOT_NAME = """
the a an and or of in on at to for from by with as is are was were be this that these those
my your his her our their its it i we you he she they me us them who what when where why how
hello hi dear thanks thank please yes no ok okay sure hey
monday tuesday wednesday thursday friday saturday sunday january february march april may
june july august september october november december today tomorrow yesterday
street st avenue ave road rd lane ln drive dr boulevard blvd way court ct place pl square
terrace parkway highway suite apt apartment unit floor building
inc ltd llc corp corporation company co group bank university college school hospital
institute foundation association ministry department office church center centre club
north south east west new san santa saint st los las el la le de del der van von
mr mrs ms miss dr prof sir madam
"""
NOT_NAME: frozenset[str] = frozenset(_NOT_NAME.split())

#: Given names that are also ordinary English words; these need a second signal (a
#: following capitalised word, a title, or a naming phrase) to count at a sentence start.
_AMBIGUOUS = """
will may mark grace hope joy faith rose lily iris ruby amber april june august art bill
bob frank sue pat max ray sky dawn sunny summer autumn holly ivy jack chase hunter mason
page penny victor wade guy rich don dean earl glen gene can
"""
AMBIGUOUS: frozenset[str] = frozenset(_AMBIGUOUS.split())

GIVEN_NAMES: frozenset[str] = frozenset(_GIVEN.split())
SURNAMES: frozenset[str] = frozenset(_SURNAMES.split())
