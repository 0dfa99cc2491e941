/**
 * Question templates as data, quoted exactly from the reference's `question_templates.py`
 * (data-reference §4-6), keyed by the reference's constant names. Placeholders are Python
 * `str.format` fields; {@link fillTemplate} fills them.
 *
 * @module
 */

/** Every template, by its name in the reference. */
export const TEMPLATES = {
  // data-reference §4.1
  OBJ_COUNT_TEMPLATE: "How many {category}(s) are in this room?",
  // §4.2
  OBJ_SIZE_ESTIMATE_TEMPLATE:
    "What is the length of the longest dimension (length, width, or height) of the {category}, measured in centimeters?",
  // §4.3 (the space before the newline is in the reference)
  ROOM_SIZE_TEMPLATE:
    "What is the size of this room (in square meters)? \nIf multiple rooms are shown, estimate the size of the combined space.",
  // §4.4
  OBJ_ABS_DISTANCE_TEMPLATE:
    "Measuring from the closest point of each object, what is the direct distance between the {object1} and the {object2} (in meters)?",
  // §4.5
  OBJ_REL_DISTANCE_V1_TEMPLATE:
    "Measuring from the closest point of each object, which of these objects ({choice_a}, {choice_b}, {choice_c}, {choice_d}) is the closest to the {category}?\nIf there are multiple instances of an object category, measure to the closest.",
  OBJ_REL_DISTANCE_V2_TEMPLATE:
    "Measuring from the closest point of each object, which of these objects ({choice_a}, {choice_b}, {choice_c}) is the closest to the {category}?\nIf there are multiple instances of an object category, measure to the closest.",
  OBJ_REL_DISTANCE_V3_TEMPLATE:
    "Measuring from the closest point of each object, which of these objects ({choice_a}, {choice_b}) is the closest to the {category}?\nIf there are multiple instances of an object category, measure to the closest.",
  // §4.6
  OBJ_REL_DIRECTION_V1_TEMPLATE:
    "If I am standing by the {positioning_object} and facing the {orienting_object}, is the {querying_object} to my front-left, front-right, back-left, or back-right?\nThe directions refer to the quadrants of a Cartesian plane (if I am standing at the origin and facing along the positive y-axis).",
  OBJ_REL_DIRECTION_V2_TEMPLATE:
    "If I am standing by the {positioning_object} and facing the {orienting_object}, is the {querying_object} to my left, right, or back?\nAn object is to my back if I would have to turn at least 135 degrees in order to face it.",
  OBJ_REL_DIRECTION_V3_TEMPLATE:
    "If I am standing by the {positioning_object} and facing the {orienting_object}, is the {querying_object} to the left or the right of the {orienting_object}?",
  // §4.7
  OBJ_APPEARANCE_ORDER_TEMPLATE:
    "What will be the first-time appearance order of the following categories in the video: {choice_a}, {choice_b}, {choice_c}, {choice_d}?",
  // §5.1
  VSTI_CAMERA_DISPLACEMENT_TEMPLATE:
    "Approximately how far (in meters) did the camera move between {start_frame_description} and {end_frame_description}?",
  // §5.2
  VSTI_CAMERA_OBJ_DIST_TEMPLATE:
    "What is the approximate distance (in meters) between the camera (or the person filming) and the nearest point of the {object_name} in {frame_description}?",
  // §5.3
  VSTI_CAMERA_OBJ_REL_DIST_TEMPLATE_V1:
    "Measuring from the closest point of each object, which of these objects ({choice_a}, {choice_b}, {choice_c}, {choice_d}) is the closest to the camera in {frame_description}?",
  VSTI_CAMERA_OBJ_REL_DIST_TEMPLATE_V2:
    "Measuring from the closest point of each object, which of these objects ({choice_a}, {choice_b}, {choice_c}) is the closest to the camera in {frame_description}?",
  VSTI_CAMERA_OBJ_REL_DIST_TEMPLATE_V3:
    "Measuring from the closest point of each object, which of these objects ({choice_a}, {choice_b}) is the closest to the camera in {frame_description}?",
  // §5.4
  VSTI_CAMERA_MOVEMENT_DIRECTION_TEMPLATE_V1:
    "During the sequence between {start_frame_description} and {end_frame_description}, what was the primary consistent direction of the camera's movement relative to its orientation at the start? The options are {choice_a}, {choice_b}, {choice_c}, and {choice_d}.",
  VSTI_CAMERA_MOVEMENT_DIRECTION_TEMPLATE_V2:
    "During the sequence between {start_frame_description} and {end_frame_description}, what was the primary consistent direction of the camera's movement relative to its orientation at the start? The options are {choice_a}, {choice_b}, and {choice_c}.",
  VSTI_CAMERA_MOVEMENT_DIRECTION_TEMPLATE_V3:
    "During the sequence between {start_frame_description} and {end_frame_description}, what was the primary consistent direction of the camera's movement relative to its orientation at the start? The options are {choice_a} and {choice_b}.",
  // §5.5 (filled with the template's own field names: DECISIONS 14)
  VSTI_OBJ_OBJ_REL_POS_NF_TEMPLATE:
    "In {frame_description}, relative to the camera, is {obj_A_name} [Near/Far] compared to {obj_B_name}?",
  VSTI_OBJ_OBJ_REL_POS_LR_TEMPLATE:
    "In {frame_description}, relative to {obj_B_name}, is {obj_A_name} to the [Left/Right]?",
  VSTI_OBJ_OBJ_REL_POS_UD_TEMPLATE:
    "In {frame_description}, relative to {obj_B_name}, is {obj_A_name} to the [Up/Down]?",
  // §6.1
  ROUTE_PLAN_TEMPLATE:
    "You are a robot beginning at the {start_object} facing the {facing_object}. You want to navigate to the {destination_object}. You will perform the following actions (Note: for each [please fill in], choose either 'turn back,' 'turn left,' or 'turn right.'): {actions}",
} as const;

/** A template's name. */
export type TemplateName = keyof typeof TEMPLATES;

/** Placeholders filled with the options in their final order (`choice_a`, `choice_b`, ...). */
export const CHOICE_FIELDS = ["choice_a", "choice_b", "choice_c", "choice_d"] as const;

/**
 * Fills `{name}` fields as Python's `str.format` does; a missing field is an error (the
 * reference crashed on one: data-reference §5.5).
 *
 * @example
 * ```ts
 * const q = fillTemplate(TEMPLATES.OBJ_COUNT_TEMPLATE, { category: "chair" });
 * if (q !== "How many chair(s) are in this room?") throw new Error(q);
 * ```
 */
export function fillTemplate(
  template: string,
  fields: Readonly<Record<string, string | number>>,
): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (!(name in fields)) throw new Error(`template field '${name}' has no value`);
    return String(fields[name]);
  });
}

/**
 * `frame k of N` (data-reference §5.0; k is 1-based among the N sampled frames).
 *
 * @example
 * ```ts
 * if (frameOf(3, 32) !== "frame 3 of 32") throw new Error();
 * ```
 */
export function frameOf(k: number, n: number): string {
  return `frame ${k} of ${n}`;
}
