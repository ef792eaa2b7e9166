"""Chinese names of segment attributes and their values, for reports, exports and the dashboard."""
ATTRIBUTE_NAMES = {"scale": "规模", "ownership": "所有制", "capital": "资本来源", "township": "乡镇", "industry": "行业"}
VALUE_NAMES = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型", "state": "国有", "private": "民营",
               "collective": "集体", "other": "其他", "domestic": "内资", "foreign": "外资（含港澳台）"}
