/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Urgency and advice for triage (mv_clf_triage.h): the per-label default
 * urgency and advice tip for the labels of the three triage corpora, the
 * patient-facing advice templates per urgency and red-flag category in
 * English and Chinese (emergency numbers and crisis lines included), and
 * the clinician summary. Urgency levels follow the NHS 111 dispositions
 * (call 999 / be seen today / see a GP / self-care) and the four levels of
 * 中国急诊预检分诊专家共识 (2018) collapsed to four patient-facing steps.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "safety_int.h"
#include "triage_int.h"

enum {
  SC = MV_CLF_URG_SELF_CARE,
  SO = MV_CLF_URG_SOON,
  UR = MV_CLF_URG_URGENT
};

/* Label table: default urgency, display names and a one-line tip. Tips
 * follow the NHS condition pages (nhs.uk/conditions/...) and, for the
 * Chinese paediatric labels, 国家卫健委 手足口病诊疗指南 (2018) and WHO oral
 * rehydration guidance. */
static const struct label_info {
  const char *label;
  int urgency;
  const char *en, *zh;
  const char *tip_en, *tip_zh;
} labels[] = {
    /* symptom2disease (English, 24 diseases) */
    {"Psoriasis", SO, "psoriasis", "银屑病",
     "A GP can confirm it and prescribe creams; moisturise daily.",
     "可到皮肤科确诊并开外用药，每天保湿。"},
    {"Varicose Veins", SO, "varicose veins", "静脉曲张",
     "Keep active and raise your legs when resting; see a GP if painful.",
     "多活动，休息时抬高双腿；如疼痛请就医。"},
    {"Typhoid", UR, "typhoid fever", "伤寒",
     "Typhoid needs antibiotics; drink plenty of fluids.",
     "伤寒需要抗生素治疗，请多喝水。"},
    {"Chicken pox", SC, "chickenpox", "水痘",
     "Rest, drink fluids, use calamine for itching; avoid ibuprofen; keep away "
     "from pregnant women and newborns.",
     "多休息多喝水，可用炉甘石止痒，避免布洛芬，远离孕妇和新生儿。"},
    {"Impetigo", SO, "impetigo", "脓疱疮",
     "It is contagious: see a GP or pharmacist for antibiotic cream; do not "
     "share towels.",
     "有传染性，请就医或咨询药师使用抗生素药膏，不要共用毛巾。"},
    {"Dengue", UR, "dengue", "登革热",
     "Drink plenty of fluids, use paracetamol, avoid aspirin and ibuprofen.",
     "多补液，可用对乙酰氨基酚，避免阿司匹林和布洛芬。"},
    {"Fungal infection", SC, "fungal infection", "真菌感染",
     "A pharmacist can suggest an antifungal cream; keep the skin clean and "
     "dry.",
     "可咨询药师使用抗真菌药膏，保持皮肤清洁干燥。"},
    {"Common Cold", SC, "common cold", "普通感冒",
     "Rest, drink fluids, paracetamol or ibuprofen for aches; it usually "
     "clears within 1-2 weeks.",
     "多休息多喝水，必要时用退烧止痛药，一般1-2周自愈。"},
    {"Pneumonia", UR, "pneumonia", "肺炎", "Pneumonia may need antibiotics.",
     "肺炎可能需要抗生素治疗。"},
    {"Dimorphic Hemorrhoids", SO, "haemorrhoids (piles)", "痔疮",
     "Eat fibre, drink water, avoid straining; see a GP if bleeding "
     "continues.",
     "多吃膳食纤维、多喝水、避免用力排便；持续出血请就医。"},
    {"Arthritis", SO, "arthritis", "关节炎",
     "See a GP to confirm the type; gentle exercise and pain relief help.",
     "请就医明确类型，适度运动和止痛有帮助。"},
    {"Acne", SC, "acne", "痤疮",
     "Wash gently twice a day; a pharmacist can advise on treatments.",
     "每天温和清洁两次，可咨询药师用药。"},
    {"Bronchial Asthma", SO, "asthma", "支气管哮喘",
     "See a doctor for an asthma plan and inhalers; get help at once if your "
     "inhaler does not help.",
     "请就医制定哮喘治疗方案；如吸入药无效请立即就医。"},
    {"Hypertension", SO, "high blood pressure", "高血压",
     "Have your blood pressure checked by a GP; reduce salt and stay active.",
     "请就医复查血压，少盐饮食并保持运动。"},
    {"Migraine", SO, "migraine", "偏头痛",
     "Rest in a dark quiet room, painkillers early; see a GP if frequent.",
     "在安静暗的房间休息，早用止痛药；频繁发作请就医。"},
    {"Cervical spondylosis", SO, "neck arthritis (cervical spondylosis)",
     "颈椎病",
     "Keep your neck moving gently; see a GP if numbness or weakness.",
     "适度活动颈部；如出现手臂麻木无力请就医。"},
    {"Jaundice", UR, "jaundice", "黄疸",
     "Yellow skin or eyes need a doctor's assessment.",
     "皮肤或眼睛发黄需要医生检查。"},
    {"Malaria", UR, "malaria", "疟疾",
     "Malaria can become serious quickly; mention any travel.",
     "疟疾可迅速加重，请说明旅行史。"},
    {"urinary tract infection", SO, "urinary tract infection", "尿路感染",
     "Drink plenty of water; a GP or pharmacist can advise on antibiotics.",
     "多喝水，请就医或咨询药师是否需要抗生素。"},
    {"allergy", SC, "allergy", "过敏",
     "Avoid the trigger; antihistamines from a pharmacist can help.",
     "避免接触过敏原，可咨询药师使用抗组胺药。"},
    {"gastroesophageal reflux disease", SO, "acid reflux (GORD)",
     "胃食管反流病",
     "Smaller meals, avoid late eating; see a GP if it persists.",
     "少食多餐，避免睡前进食；持续不缓解请就医。"},
    {"drug reaction", UR, "drug reaction", "药物反应",
     "Bring the medicine with you; stop it only on a doctor's advice.",
     "请带上可疑药物，在医生指导下停药。"},
    {"peptic ulcer disease", SO, "stomach ulcer", "消化性溃疡",
     "Avoid ibuprofen and aspirin; see a GP.",
     "避免服用布洛芬和阿司匹林，请就医。"},
    {"diabetes", SO, "diabetes", "糖尿病", "Ask a GP for a blood sugar test.",
     "请就医检查血糖。"},
    /* toyhom_im (Chinese, internal-medicine departments) */
    {"肝病科", SO, "hepatology (liver clinic)", "肝病科", NULL, NULL},
    {"消化科", SO, "gastroenterology", "消化科", NULL, NULL},
    {"神经科", SO, "neurology", "神经科", NULL, NULL},
    {"心血管科", SO, "cardiology", "心血管科", NULL, NULL},
    {"内分泌科", SO, "endocrinology", "内分泌科", NULL, NULL},
    {"呼吸科", SO, "respiratory medicine", "呼吸科", NULL, NULL},
    {"肾内科", SO, "nephrology (kidney clinic)", "肾内科", NULL, NULL},
    {"感染科", SO, "infectious diseases", "感染科", NULL, NULL},
    {"血液科", SO, "haematology", "血液科", NULL, NULL},
    {"普通内科", SO, "general internal medicine", "普通内科", NULL, NULL},
    {"风湿免疫科", SO, "rheumatology", "风湿免疫科", NULL, NULL},
    /* dxy (Chinese, paediatric / respiratory diseases) */
    {"上呼吸道感染", SC, "upper respiratory tract infection", "上呼吸道感染",
     "Rest and fluids; see a doctor if fever lasts over 3 days or breathing "
     "is hard.",
     "多休息多喝水；发热超过3天或呼吸费力请就医。"},
    {"小儿腹泻", SO, "diarrhoea in a child", "小儿腹泻",
     "Give oral rehydration solution and keep feeding; see a doctor if the "
     "child is drowsy, has few wet nappies or blood in the stool.",
     "补充口服补液盐并继续喂养；如精神差、尿少或大便带血请立即就医。"},
    {"小儿手足口病", SO, "hand, foot and mouth disease", "手足口病",
     "Usually mild: fluids, soft food, keep the child home; see a doctor at "
     "once if drowsy, jerking or breathing fast.",
     "多数轻症：多喝水、吃软食、居家隔离；如精神差、肢体抖动或呼吸急促请立即就"
     "医。"},
    {"过敏性鼻炎", SC, "allergic rhinitis (hay fever)", "过敏性鼻炎",
     "Avoid triggers; antihistamines or a steroid nasal spray can help.",
     "避免过敏原，可使用抗组胺药或激素鼻喷剂。"},
    {"肺炎", UR, "pneumonia", "肺炎", "Pneumonia may need antibiotics.",
     "肺炎可能需要抗生素治疗。"},
};

static const struct label_info *find_label(const char *label) {
  if (!label)
    return NULL;
  for (size_t i = 0; i < MV_ARRAY_LEN(labels); i++)
    if (strcasecmp(labels[i].label, label) == 0)
      return &labels[i];
  return NULL;
}

const char *mv_clf_urgency_id(int urgency) {
  static const char *const ids[] = {"self-care", "soon", "urgent", "emergency"};
  return urgency >= 0 && urgency < (int)MV_ARRAY_LEN(ids) ? ids[urgency] : NULL;
}

int mv_clf_label_urgency(const char *label) {
  const struct label_info *li = find_label(label);
  return li ? li->urgency : -1;
}

/* ---- bounded text assembly ------------------------------------------ */

struct sb {
  char *p;
  size_t cap, len;
};

static void sb_add(struct sb *b, const char *fmt, ...) MV_PRINTF(2, 3);
static void sb_add(struct sb *b, const char *fmt, ...) {
  if (b->len + 1 >= b->cap)
    return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n >= b->cap - b->len) {
    /* Truncated: cut back to a UTF-8 character boundary. */
    size_t e = b->cap - 1;
    while (e > b->len && ((unsigned char)b->p[e] & 0xc0) == 0x80)
      e--;
    b->p[e] = 0;
    b->len = e;
    return;
  }
  b->len += (size_t)n;
}

/* ---- emergency advice per red-flag category -------------------------- */

/* First-aid lines from the NHS condition pages and Resuscitation Council UK
 * guidance; Chinese from 中国红十字会 急救常识 equivalents. */
static const char *first_aid(int cat, bool zh) {
  switch (cat) {
  case MV_CLF_RF_HEART_ATTACK:
    return zh ? "请坐下休息，不要走动；如无过敏，可嚼服一片阿司匹林（300毫克）"
                "。"
              : "Sit down and rest. If you are not allergic, chew one 300 mg "
                "aspirin while you wait.";
  case MV_CLF_RF_STROKE:
    return zh ? "记下症状开始的时间，不要给病人吃喝任何东西。"
              : "Note the time the symptoms started. Do not give food or "
                "drink.";
  case MV_CLF_RF_BREATHING:
    return zh ? "让病人坐直，松开紧身衣物；如有哮喘药请使用。"
              : "Sit upright, loosen tight clothing, use a reliever inhaler "
                "if prescribed.";
  case MV_CLF_RF_BLEEDING:
    return zh ? "用干净的布用力压住伤口，不要松开。"
              : "Press firmly on the wound with a clean cloth and keep "
                "pressing.";
  case MV_CLF_RF_UNCONSCIOUS:
    return zh ? "如有呼吸，让其侧卧（复苏体位）；如无呼吸，开始胸外按压。"
              : "If breathing, put them on their side (recovery position); "
                "if not breathing, start CPR.";
  case MV_CLF_RF_SEIZURE:
    return zh ? "移开周围危险物品，不要往嘴里塞东西，记录抽搐时间。"
              : "Move dangerous objects away, do not put anything in their "
                "mouth, time the seizure.";
  case MV_CLF_RF_ANAPHYLAXIS:
    return zh ? "如有肾上腺素笔请立即使用（大腿外侧）。"
              : "Use an adrenaline auto-injector (EpiPen) now if you have "
                "one.";
  case MV_CLF_RF_POISONING:
    return zh ? "不要催吐，保留药瓶或包装带去医院。"
              : "Do not make them sick. Keep the packet or bottle to show "
                "the paramedics.";
  case MV_CLF_RF_TRAUMA:
    return zh ? "不要随意搬动伤者（尤其头颈部受伤时），压迫止血。"
              : "Do not move them if the head, neck or back may be hurt; "
                "press on any bleeding.";
  case MV_CLF_RF_CHILD:
    return zh ? "请带上孩子立即就医，不要等待。" : "Do not wait: get help now.";
  case MV_CLF_RF_PREGNANCY:
    return zh ? "请同时联系您的产科医院。"
              : "Also call your maternity unit or midwife.";
  default:
    return "";
  }
}

static void emergency_advice(struct sb *b, const struct mv_clf_rf_result *rf,
                             bool zh) {
  const char *title = mv_clf_rf_title(rf->category, zh);
  if (rf->category == MV_CLF_RF_SUICIDE) {
    /* Crisis lines: Samaritans (UK, free, 24 h) 116 123; US 988 Suicide &
     * Crisis Lifeline; China 12356 national psychological assistance line
     * (国家卫健委, 2025) and Beijing Psychological Crisis Research and
     * Intervention Center 010-82951332 (24 h). */
    if (zh)
      sb_add(b,
             "您提到的情况（%s）需要立即得到帮助。如果您有立即的危险，请拨打"
             "120或110。您可以随时拨打心理援助热线12356，或北京心理危机研究"
             "与干预中心热线010-82951332（24小时）。请告诉身边信任的人，不要"
             "独自一人。",
             title);
    else
      sb_add(b,
             "What you describe (%s) needs help right now. If you are in "
             "immediate danger call 999 (UK), 911 (US/Canada) or 112 (EU). "
             "You can talk to someone now: Samaritans 116 123 (UK, free, "
             "24 hours), call or text 988 (US Suicide & Crisis Lifeline). "
             "Please tell someone you trust and do not stay alone.",
             title);
    return;
  }
  if (zh)
    sb_add(b,
           "可能是急症：%s。请立即拨打120急救电话，或马上去最近医院的急诊科，"
           "不要自己开车。%s",
           title, first_aid(rf->category, true));
  else
    sb_add(b,
           "This may be an emergency: %s. Call emergency services now - 999 "
           "(UK), 911 (US/Canada), 112 (EU), 120 (China) - or go to the "
           "nearest emergency department. Do not drive yourself. %s",
           title, first_aid(rf->category, false));
}

/* ---- advice ---------------------------------------------------------- */

static const char *label_name(const char *label, bool zh) {
  const struct label_info *li = find_label(label);
  if (!li)
    return label;
  return zh ? li->zh : li->en;
}

void mv__triage_advice(struct mv_clf_triage_result *r, bool empty) {
  bool zh = r->lang == MV_CLF_LANG_ZH;
  struct sb b = {r->advice, sizeof r->advice, 0};
  r->advice[0] = 0;
  if (r->rf.red_flag) {
    emergency_advice(&b, &r->rf, zh);
  } else if (empty) {
    sb_add(&b, "%s",
           zh ? "请描述您的症状（哪里不舒服、多久了、有多严重），以便给出建议。"
              : "Please describe your symptoms (what, where, since when, how "
                "bad) so that we can advise you.");
  } else {
    const struct label_info *li = r->n_dx ? find_label(r->dx[0].label) : NULL;
    bool dept = li && li->tip_en == NULL; /* toyhom labels are departments */
    if (r->n_dx) {
      const char *name = label_name(r->dx[0].label, zh);
      if (dept)
        sb_add(&b,
               zh ? "建议就诊科室：%s（可能性%.0f%%）。"
                  : "Suggested clinic: %s (%.0f%% match). ",
               name, 100.0 * r->dx[0].p);
      else
        sb_add(&b,
               zh ? "最可能的情况：%s（可能性%.0f%%）。"
                  : "Most likely: %s (%.0f%% match). ",
               name, 100.0 * r->dx[0].p);
    }
    switch (r->urgency) {
    case MV_CLF_URG_URGENT:
      sb_add(&b, "%s",
             zh ? "建议今天就医（急诊或当日门诊）。"
                : "Please be seen by a doctor today (same-day GP, urgent "
                  "care, or NHS 111). ");
      break;
    case MV_CLF_URG_SOON:
      sb_add(&b, "%s",
             zh ? "建议近几天内到医院就诊。"
                : "Please book an appointment with a doctor in the next few "
                  "days. ");
      break;
    default:
      sb_add(&b, "%s",
             zh ? "通常可以在家自我护理，药师可以提供用药建议；如一周内不见"
                  "好转或加重，请就医。"
                : "This can usually be looked after at home; a pharmacist "
                  "can advise. See a doctor if it is not better within a "
                  "week or gets worse. ");
      break;
    }
    if (li && li->tip_en)
      sb_add(&b, "%s", zh ? li->tip_zh : li->tip_en);
    sb_add(&b, "%s",
           zh ? "如出现胸痛、呼吸困难、意识不清或晕倒，请立即拨打120。"
              : " If you develop chest pain, trouble breathing, confusion or "
                "fainting, call emergency services at once.");
  }
  sb_add(&b, "%s",
         zh ? "（本结果由计算机自动生成，不是诊断，不能替代医生的面诊。）"
            : " (This is an automated triage suggestion, not a diagnosis, "
              "and does not replace a clinician.)");
}

void mv__triage_summary(struct mv_clf_triage_result *r, const char *text,
                        size_t len) {
  struct sb b = {r->summary, sizeof r->summary, 0};
  r->summary[0] = 0;
  sb_add(&b, "Automated triage (not a diagnosis). Urgency: %s. ",
         mv_clf_urgency_id(r->urgency));
  if (r->rf.red_flag) {
    sb_add(&b, "Red flag: %s", mv_clf_rf_id(r->rf.category));
    for (size_t i = 0; i < r->rf.n_hits; i++)
      sb_add(&b, "%s%s [%s]", i ? "; " : " (", mv_clf_rf_id(r->rf.hits[i].cat),
             r->rf.hits[i].source);
    sb_add(&b, "). ");
  } else {
    sb_add(&b, "No red flag. ");
  }
  if (r->n_dx) {
    sb_add(&b, "Differential:");
    for (size_t i = 0; i < r->n_dx; i++)
      sb_add(&b, "%s %s %.2f", i ? "," : "", r->dx[i].label, r->dx[i].p);
    sb_add(&b, ". ");
  } else {
    sb_add(&b, "No classifier model: differential not assessed. ");
  }
  if (r->n_drivers) {
    sb_add(&b, "Drivers:");
    for (size_t i = 0; i < r->n_drivers; i++) {
      const struct mv_clf_triage_span *s = &r->drivers[i];
      if (s->start < len && s->len <= len - s->start && s->len <= 80)
        sb_add(&b, "%s \"%.*s\"", i ? "," : "", (int)s->len, text + s->start);
    }
    sb_add(&b, ".");
  }
}
